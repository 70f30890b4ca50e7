"""config/README.md documents every key of the workflow schema and no other; LICENSE and CITATION.cff."""

import re
import tomllib
from pathlib import Path
from typing import Any, Iterator

import yaml

from surrogate_study.plan.dataset_catalog import PREPROCESSING

ROOT = Path(__file__).resolve().parents[3]
SCHEMA = yaml.safe_load((ROOT / "workflow" / "schemas" / "config.schema.yaml").read_text())


def resolve(node: dict[str, Any]) -> dict[str, Any]:
    """A schema node with a local ``$ref`` (``#/$defs/...``) replaced by its target."""
    ref = node.get("$ref")
    if ref is None:
        return node
    target: Any = SCHEMA
    for part in ref.lstrip("#/").split("/"):
        target = target[part]
    return resolve(target)


def schema_keys(node: dict[str, Any], prefix: str = "") -> Iterator[tuple[str, dict[str, Any], bool]]:
    """(dotted key, schema node, required) of every key the schema names; ``<name>`` for free names."""
    node = resolve(node)
    required = set(node.get("required", []))
    for name, child in node.get("properties", {}).items():
        key = f"{prefix}{name}"
        yield key, resolve(child), name in required
        yield from schema_keys(child, key + ".")
    extra = node.get("additionalProperties")
    if isinstance(extra, dict) and (extra.get("type") == "object" or "properties" in extra
                                    or "additionalProperties" in extra or "anyOf" in extra):
        key = f"{prefix}<name>"
        yield key, resolve(extra), False
        yield from schema_keys(extra, key + ".")


def documented() -> dict[str, dict[str, str]]:
    """The rows of config/README.md's key table: key -> {type, default, what}."""
    rows = {}
    for line in (ROOT / "config" / "README.md").read_text().splitlines():
        match = re.match(r"^\| `([^`]+)` \|(.*)\|$", line)
        if match:
            cells = [cell.strip() for cell in match.group(2).split("|")]
            assert len(cells) == 3, line
            assert match.group(1) not in rows, f"documented twice: {match.group(1)}"
            rows[match.group(1)] = dict(zip(("type", "default", "what"), cells))
    return rows


def test_every_schema_key_is_documented_and_no_other():
    keys = {key for key, _, _ in schema_keys(SCHEMA)}
    assert {"job_size", "preprocessing.shd.max_time", "studies.<name>.axes.<name>", "claims.uncertainty_k",
            "datasets.<name>"} <= keys  # the walk reaches $refs and free names
    docs = documented()
    assert sorted(keys - set(docs)) == [], "schema keys missing from config/README.md"
    assert sorted(set(docs) - keys) == [], "config/README.md documents keys the schema does not have"
    assert all(row["what"] for row in docs.values())


def test_documented_defaults_and_required_keys_match_the_schema_and_the_package():
    docs = documented()
    for key, node, required in schema_keys(SCHEMA):
        if "default" in node:
            assert docs[key]["default"] == str(node["default"]), key
        elif required:
            assert docs[key]["default"] == "required", key
    for dataset, constants in PREPROCESSING.items():  # defaults the schema leaves to the package
        for name, value in constants.items():
            assert float(docs[f"preprocessing.{dataset}.{name}"]["default"]) == value, (dataset, name)


def test_license_is_mit_as_pyproject_says():
    text = (ROOT / "LICENSE").read_text()
    assert text.startswith("MIT License") and "the surrogate-study authors" in text
    assert 'license = {text = "MIT"}' in (ROOT / "pyproject.toml").read_text()


def test_citation_cff_names_the_paper_and_this_project():
    cff = yaml.safe_load((ROOT / "CITATION.cff").read_text())
    for key in ("cff-version", "message", "title", "authors"):  # required by the CFF 1.2.0 schema
        assert cff.get(key), key
    assert cff["cff-version"] == "1.2.0" and cff["type"] == "software" and cff["license"] == "MIT"
    assert all("name" in a or "family-names" in a for a in cff["authors"])
    meta = tomllib.loads((ROOT / "pyproject.toml").read_text())["project"]
    assert cff["version"] == meta["version"]
    paper = cff["preferred-citation"]
    assert paper["type"] == "article" and paper["doi"] == "10.1162/neco_a_01367"
    assert paper["journal"] == "Neural Computation" and (paper["volume"], paper["issue"]) == (33, 4)
    assert (paper["start"], paper["end"], paper["year"]) == (899, 925, 2021)
    assert [a["family-names"] for a in paper["authors"]] == ["Zenke", "Vogels"]
    assert re.fullmatch(r"10\.\d{4,9}/\S+", paper["doi"])

