"""What every v1alpha1 model shares: the base model, kind metadata, and the common value types.

:class:`ApiModel` is the one base: camelCase names on the wire (``maxConcurrency``), snake_case in
Python, unknown fields refused, attribute docstrings kept as descriptions. :class:`KindInfo` sits
next to each root model like kubebuilder markers do: the names, scope and printer columns of the
CustomResourceDefinition that :mod:`yokeflow.crdgen` generates from it.
"""

from __future__ import annotations

from dataclasses import dataclass
from decimal import Decimal
from typing import Annotated, Literal

from pydantic import (
    BaseModel,
    ConfigDict,
    Field,
    PlainSerializer,
    StringConstraints,
    WithJsonSchema,
)
from pydantic.alias_generators import to_camel

__all__ = [
    "GROUP",
    "VERSION",
    "ApiModel",
    "KindInfo",
    "PrinterColumn",
    "Quantity",
    "Usd",
]

GROUP = "yokeflow.io"
"""The API group of every YokeFlow custom resource."""
VERSION = "v1alpha1"
"""The version this package defines."""

# A Kubernetes resource quantity (``500m``, ``2Gi``, ``1``), as the API server's own regex has it.
QUANTITY_PATTERN = (
    r"^(\+|-)?(([0-9]+(\.[0-9]*)?)|(\.[0-9]+))"
    r"(([KMGTPE]i)|[numkMGTPE]|([eE](\+|-)?(([0-9]+(\.[0-9]*)?)|(\.[0-9]+))))?$"
)


class ApiModel(BaseModel):
    """The base of every custom-resource model: camelCase aliases, no unknown fields, frozen.

    Attribute docstrings are user documentation: they become the CRD's descriptions and the text
    of ``kubectl explain``. Validation by Python name is allowed too, so code can write
    ``Parallel(max_concurrency=4)``; dumps use the camelCase names.
    """

    model_config = ConfigDict(
        alias_generator=to_camel,
        validate_by_name=True,
        validate_by_alias=True,
        serialize_by_alias=True,
        extra="forbid",
        frozen=True,
        use_attribute_docstrings=True,
    )


def _usd_on_the_wire(value: Decimal) -> float:
    return float(value)


Usd = Annotated[
    Decimal,
    Field(ge=Decimal(0)),
    PlainSerializer(_usd_on_the_wire, return_type=float, when_used="json"),
    WithJsonSchema({"type": "number", "minimum": 0}),
]
"""Dollars, never negative: a ``Decimal`` in Python (money is never a float in our code), a JSON
number on the wire because that is what people write in a manifest (``limitUsd: 25``)."""


Quantity = Annotated[
    int | Annotated[str, StringConstraints(pattern=QUANTITY_PATTERN)],
    WithJsonSchema(
        {
            "anyOf": [{"type": "integer"}, {"type": "string"}],
            "pattern": QUANTITY_PATTERN,
            "x-kubernetes-int-or-string": True,
        }
    ),
]
"""A Kubernetes resource quantity: an integer or a string such as ``500m`` or ``2Gi``."""


@dataclass(frozen=True, slots=True)
class PrinterColumn:
    """One column of ``kubectl get``: a header, a JSONPath into the object and its type."""

    name: str
    json_path: str
    type: Literal["string", "integer", "number", "boolean", "date"] = "string"
    description: str = ""
    priority: int = 0
    """0 shows in the default view; higher only with ``-o wide``."""


@dataclass(frozen=True, slots=True)
class KindInfo:
    """The names and presentation of one kind, as its CustomResourceDefinition declares them."""

    kind: str
    plural: str
    singular: str
    short_names: tuple[str, ...]
    categories: tuple[str, ...]
    printer_columns: tuple[PrinterColumn, ...]
    scope: Literal["Namespaced", "Cluster"] = "Namespaced"
    group: str = GROUP
    version: str = VERSION

    @property
    def api_version(self) -> str:
        """``group/version``, as written in a manifest's ``apiVersion``."""
        return f"{self.group}/{self.version}"

    @property
    def crd_name(self) -> str:
        """``plural.group``: the CustomResourceDefinition's own name."""
        return f"{self.plural}.{self.group}"
