"""Reading one YAML document strictly and fast: duplicate keys refused, nesting bounded.

``yaml.safe_load`` keeps the last of two equal keys (a second ``depends_on`` silently hides the
first), recurses once per nesting level (a deeply nested file ends in ``RecursionError``; the C
composer even crashes the process) and builds a node tree before any value. :func:`load` builds
values straight from libyaml's event stream instead, with an explicit stack: a duplicate key or
nesting deeper than ``max_depth`` is a :class:`yaml.MarkedYAMLError` carrying its line and column,
like any other YAML error, and a typical plan loads several times faster than ``safe_load``.

Scalars are resolved and constructed exactly as ``SafeLoader`` does (``yes``/``1e3``/dates…);
anchors, aliases and merge keys (``<<``) work; tags other than the safe standard ones are refused.
"""

from __future__ import annotations

from typing import Any

import yaml
from yaml import events
from yaml.constructor import ConstructorError, SafeConstructor
from yaml.nodes import ScalarNode

__all__ = ["MAX_DEPTH", "load"]

MAX_DEPTH = 100
"""Deepest nesting of mappings and sequences accepted (a plan needs 6)."""

_LOADER: Any = getattr(yaml, "CSafeLoader", yaml.SafeLoader)  # libyaml when it is built in
_RETRY_BYTES = 1024 * 1024
_RESOLVER: Any = yaml.resolver.Resolver()
_CONSTRUCTOR = SafeConstructor()
_STR = "tag:yaml.org,2002:str"
_MERGE = "tag:yaml.org,2002:merge"
_COLLECTION_TAGS = {
    events.MappingStartEvent: (None, "!", "tag:yaml.org,2002:map"),
    events.SequenceStartEvent: (None, "!", "tag:yaml.org,2002:seq"),
}


class _MergeKey:
    """The ``<<`` key: its value's mappings fill in the keys the mapping does not set itself."""


_MERGE_KEY = _MergeKey()


class _Open:
    """A mapping or sequence being filled, with the key waiting for its value."""

    __slots__ = ("key", "key_mark", "merges", "value")

    def __init__(self, value: dict[Any, Any] | list[Any]) -> None:
        self.value = value
        self.key: Any = _Open
        self.key_mark: Any = None
        self.merges: list[Any] = []


def load(text: str, max_depth: int = MAX_DEPTH) -> Any:
    """The value of the single YAML document in ``text`` (None when it is empty).

    Raises :class:`yaml.YAMLError` (with ``problem_mark`` where known) for invalid YAML, a
    duplicate key, an unhashable key, nesting deeper than ``max_depth``, an unknown tag or a
    second document.
    """
    try:
        return _build(text, max_depth)
    except yaml.reader.ReaderError as exc:  # a control character: no mark of its own
        raise _marked(exc, text) from None
    except yaml.MarkedYAMLError as exc:
        if _LOADER is yaml.SafeLoader or len(text) > _RETRY_BYTES or not _from_parser(exc):
            raise
        # libyaml reports a syntax error where it gave up (often the end of the file);
        # PyYAML's own parser names the place the mistake was made. Ask it again.
        for _ in yaml.parse(text, Loader=yaml.SafeLoader):
            pass
        raise


def _marked(exc: yaml.reader.ReaderError, text: str) -> yaml.MarkedYAMLError:
    """The reader's error with the line and column of its character, as every other error has."""
    position = min(exc.position, len(text))
    line = text.count("\n", 0, position)
    column = position - (text.rfind("\n", 0, position) + 1)
    mark = yaml.Mark(exc.name, position, line, column, None, None)  # type: ignore[arg-type]  # no buffer: PyYAML's own marks allow it
    return yaml.MarkedYAMLError(problem=str(exc).splitlines()[0], problem_mark=mark)


def _from_parser(exc: yaml.MarkedYAMLError) -> bool:
    return not isinstance(exc, ConstructorError)


def _build(text: str, max_depth: int) -> Any:
    stack: list[_Open] = []
    anchors: dict[str, Any] = {}
    plain_tags: dict[str, str] = {}  # a plain scalar's tag depends on its text alone
    root: Any = None
    documents = 0
    event: Any
    parser = _LOADER(text)
    try:
        next_event = parser.get_event
        while (event := next_event()) is not None:
            kind = type(event)
            if kind is events.ScalarEvent:
                if event.tag is None:
                    value = event.value
                    if event.implicit[0]:  # plain: resolved like SafeLoader, once per text
                        tag = plain_tags.get(value)
                        if tag is None:
                            tag = plain_tags[value] = _RESOLVER.resolve(
                                ScalarNode, value, event.implicit
                            )
                        if tag != _STR:
                            value = _construct(tag, event)
                    # else quoted: always a string
                else:
                    value = _scalar(event)
            elif kind is events.MappingStartEvent or kind is events.SequenceStartEvent:
                if event.tag not in _COLLECTION_TAGS[kind]:
                    raise _error(f"unsupported tag {event.tag}", event.start_mark)
                if len(stack) >= max_depth:
                    raise _error(f"nested more than {max_depth} levels deep", event.start_mark)
                opened = _Open({} if kind is events.MappingStartEvent else [])
                if event.anchor:
                    anchors[event.anchor] = opened.value
                if stack:
                    _attach(stack[-1], opened.value, event)
                else:
                    root = opened.value
                stack.append(opened)
                continue
            elif kind is events.MappingEndEvent or kind is events.SequenceEndEvent:
                _close(stack.pop(), event)
                continue
            elif kind is events.AliasEvent:
                if event.anchor not in anchors:
                    raise _error(f"found undefined alias {event.anchor!r}", event.start_mark)
                value = anchors[event.anchor]
            elif kind is events.DocumentStartEvent:
                documents += 1
                if documents > 1:
                    raise _error("expected a single document, found a second one", event.start_mark)
                continue
            else:
                continue
            if event.anchor:
                anchors[event.anchor] = value
            if stack:
                _attach(stack[-1], value, event)
            else:
                root = value
    finally:
        parser.dispose()
    return root


def _error(problem: str, mark: Any) -> ConstructorError:
    return ConstructorError(None, None, problem, mark)


def _scalar(event: Any) -> Any:
    tag = event.tag
    if tag is None or tag == "!":
        tag = _RESOLVER.resolve(ScalarNode, event.value, event.implicit)
    if tag == _STR:
        return event.value
    return _construct(tag, event)


def _construct(tag: str, event: Any) -> Any:
    if tag == _MERGE:
        return _MERGE_KEY
    construct = SafeConstructor.yaml_constructors.get(tag)
    if construct is None or tag in {"tag:yaml.org,2002:map", "tag:yaml.org,2002:seq"}:
        raise _error(f"unsupported tag {tag}", event.start_mark)
    node = ScalarNode(tag, event.value, event.start_mark, event.end_mark, event.style)
    return construct(_CONSTRUCTOR, node)


def _attach(parent: _Open, value: Any, event: Any) -> None:
    container = parent.value
    if isinstance(container, list):
        container.append(value)
    elif parent.key is _Open:
        if isinstance(value, (dict, list)):
            raise _error("a mapping or list cannot be a key", event.start_mark)
        if value is not _MERGE_KEY and value in container:
            raise _error(f"duplicate key {value!r}", event.start_mark)
        parent.key = value
        parent.key_mark = event.start_mark
    else:
        if parent.key is _MERGE_KEY:
            parent.merges.append((value, parent.key_mark))
        else:
            container[parent.key] = value
        parent.key = _Open


def _close(opened: _Open, event: Any) -> None:
    if not isinstance(opened.value, dict):
        return
    for value, mark in opened.merges:
        sources = value if isinstance(value, list) else [value]
        for source in sources:
            if not isinstance(source, dict):
                raise _error("a merge key (<<) needs a mapping or a list of mappings", mark)
            for key, item in source.items():
                opened.value.setdefault(key, item)
