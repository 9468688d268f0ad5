"""SQL that makes ledger rows immutable on PostgreSQL (used by a migration).

UPDATE and DELETE on journal entries and postings raise. TRUNCATE is left to
the database owner (test set-up and disaster recovery), never to the app.
"""

IMMUTABLE_TABLES = ("settlements_journalentry", "settlements_posting")

FORWARD = """
CREATE OR REPLACE FUNCTION ledger_refuse_change() RETURNS trigger AS $$
BEGIN
    RAISE EXCEPTION 'ledger rows are immutable: % on % refused; post a reversing entry instead',
        TG_OP, TG_TABLE_NAME USING ERRCODE = 'raise_exception';
END;
$$ LANGUAGE plpgsql;
""" + "".join(
    f"""
CREATE TRIGGER {table}_immutable
    BEFORE UPDATE OR DELETE ON {table}
    FOR EACH ROW EXECUTE FUNCTION ledger_refuse_change();
"""
    for table in IMMUTABLE_TABLES
)

BACKWARD = (
    "".join(f"DROP TRIGGER IF EXISTS {table}_immutable ON {table};\n" for table in IMMUTABLE_TABLES)
    + "DROP FUNCTION IF EXISTS ledger_refuse_change();\n"
)


# Accounts are never deleted: postings point at them without a foreign-key
# check (see settlements.models.Posting), so a DELETE would orphan them.
ACCOUNT_TABLE = "settlements_ledgeraccount"
ACCOUNT_FORWARD = f"""
CREATE OR REPLACE FUNCTION ledger_refuse_account_delete() RETURNS trigger AS $$
BEGIN
    RAISE EXCEPTION 'ledger accounts are never deleted: % on % refused', TG_OP, TG_TABLE_NAME
        USING ERRCODE = 'raise_exception';
END;
$$ LANGUAGE plpgsql;
CREATE TRIGGER {ACCOUNT_TABLE}_no_delete
    BEFORE DELETE ON {ACCOUNT_TABLE}
    FOR EACH ROW EXECUTE FUNCTION ledger_refuse_account_delete();
"""
ACCOUNT_BACKWARD = f"""
DROP TRIGGER IF EXISTS {ACCOUNT_TABLE}_no_delete ON {ACCOUNT_TABLE};
DROP FUNCTION IF EXISTS ledger_refuse_account_delete();
"""
