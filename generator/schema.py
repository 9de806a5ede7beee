"""The JSON Schema of the case file, committed under forms/ so firms can validate in their own systems.

One schema for every case kind (generator.kinds.CASE_KINDS): a `oneOf` of the kinds, discriminated by
the `kind` key ("car_survey" | "forensic_appraisal"), each kind's model under `$defs`.
"""

from __future__ import annotations

from typing import Annotated, Any

from pydantic import Field, TypeAdapter

from generator.kinds import CASE_KINDS, Case

SCHEMA_ID = "https://gongu.invalid/schema/case-1.json"


def case_json_schema() -> dict[str, Any]:
    schema = TypeAdapter(Annotated[Case, Field(discriminator="kind")]).json_schema(mode="validation")
    assert set(schema["discriminator"]["mapping"]) == set(CASE_KINDS), "a case kind is missing from the schema"
    return {"$schema": "https://json-schema.org/draft/2020-12/schema", "$id": SCHEMA_ID,
            "title": "Gongu 案件文件（公估 / 司法鉴定）", **schema}
