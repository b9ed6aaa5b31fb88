"""One CustomResourceDefinition from a root model and its :class:`~yokeflow.api.v1alpha1.KindInfo`.

The root model has ``spec`` and ``status`` fields; the CRD's schema holds their structural
schemas, ``apiVersion``/``kind``/``metadata`` as the API server expects them, the status
subresource and the kind's printer columns. Pure.
"""

from __future__ import annotations

from typing import Any

from pydantic import BaseModel

from yokeflow.api.v1alpha1 import KindInfo
from yokeflow.crdgen.structural import clean_description, structural_schema
from yokeflow.errors import CrdGenerationError

__all__ = ["custom_resource_definition", "openapi_schema"]


def openapi_schema(model: type[BaseModel]) -> dict[str, Any]:
    """The ``openAPIV3Schema`` of a root model: its structural spec and status, and the standard
    object fields."""
    raw = model.model_json_schema(by_alias=True, mode="validation")
    # metadata is the API server's own ObjectMeta; the CRD schema leaves it to the server.
    raw["properties"] = {k: v for k, v in raw.get("properties", {}).items() if k != "metadata"}
    converted = structural_schema(raw)
    properties = converted.get("properties", {})
    if "spec" not in properties or "status" not in properties:
        raise CrdGenerationError(f"{model.__name__} needs a spec and a status field")
    status = properties["status"]
    return {
        "type": "object",
        "description": clean_description(model.__doc__ or model.__name__),
        "required": ["spec"],
        "properties": {
            "apiVersion": {
                "type": "string",
                "description": "The versioned schema of this representation of an object.",
            },
            "kind": {"type": "string", "description": "The REST resource this object represents."},
            "metadata": {"type": "object"},
            "spec": properties["spec"],
            "status": status,
        },
    }


def custom_resource_definition(info: KindInfo, model: type[BaseModel]) -> dict[str, Any]:
    """The CustomResourceDefinition manifest of one kind, ready to be written as YAML."""
    columns = [
        {
            "name": column.name,
            "type": column.type,
            "jsonPath": column.json_path,
            **({"description": column.description} if column.description else {}),
            **({"priority": column.priority} if column.priority else {}),
        }
        for column in info.printer_columns
    ]
    return {
        "apiVersion": "apiextensions.k8s.io/v1",
        "kind": "CustomResourceDefinition",
        "metadata": {
            "name": info.crd_name,
            "labels": {"app.kubernetes.io/part-of": "yokeflow"},
        },
        "spec": {
            "group": info.group,
            "scope": info.scope,
            "names": {
                "kind": info.kind,
                "listKind": f"{info.kind}List",
                "plural": info.plural,
                "singular": info.singular,
                "shortNames": list(info.short_names),
                "categories": list(info.categories),
            },
            "versions": [
                {
                    "name": info.version,
                    "served": True,
                    "storage": True,
                    "subresources": {"status": {}},
                    "additionalPrinterColumns": columns,
                    "schema": {"openAPIV3Schema": openapi_schema(model)},
                }
            ],
        },
    }
