"""Validation of catalog documents against the DCAT-AP 3.0 shapes, with pySHACL.

The shapes (products/shapes/dcat-ap-3.0.ttl) are the exchange's own
expression of DCAT-AP 3.0.0's property tables; see that file's header.
"""

import json
from dataclasses import dataclass
from functools import cache
from pathlib import Path

SHAPES_PATH = Path(__file__).resolve().parent / "shapes" / "dcat-ap-3.0.ttl"


@dataclass(frozen=True)
class ShaclReport:
    conforms: bool
    violations: int
    text: str


@cache
def _shapes():
    from rdflib import Graph

    return Graph().parse(SHAPES_PATH, format="turtle")


def jsonld_graph(document: dict | str):
    from rdflib import Graph

    data = document if isinstance(document, str) else json.dumps(document)
    return Graph().parse(data=data, format="json-ld")


def catalog_validate(document: dict | str) -> ShaclReport:
    """Validate a JSON-LD catalog document (or page, or resource); count the violations."""
    from pyshacl import validate
    from rdflib import Namespace

    sh = Namespace("http://www.w3.org/ns/shacl#")
    conforms, report_graph, report_text = validate(
        jsonld_graph(document), shacl_graph=_shapes(), inference="none", allow_warnings=True
    )
    violations = sum(1 for _ in report_graph.subjects(sh.resultSeverity, sh.Violation))
    return ShaclReport(conforms=bool(conforms), violations=violations, text=report_text)
