"""Oversight's writes: audit sweeps and findings, the hash chain, statistics, disclosure."""
