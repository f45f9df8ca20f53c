"""Convert the W3C SCXML suite's ``.txml`` tests to SCXML with ``datamodel="cel"``.

The W3C publishes one XSLT per datamodel (``confEcma.xsl`` for ECMAScript,
``confXPath.xsl``, ...) that replaces the placeholders of the conformance
namespace (``conf:``) with that datamodel's syntax.  This module is the same
transformation for autoflow's CEL datamodel, written in Python.  Each
placeholder has one rule below; the comment says what the test means by it.

Run as a script to regenerate ``tests/conformance/generated/``::

    .venv/bin/python tests/conformance/convert.py
"""

from __future__ import annotations

import re
import sys
import xml.etree.ElementTree as ET
from collections.abc import Callable
from pathlib import Path

SCXML = "http://www.w3.org/2005/07/scxml"
CONF = "http://www.w3.org/2005/scxml-conformance"
HERE = Path(__file__).parent
TXML = HERE / "txml"
GENERATED = HERE / "generated"
IO_PROCESSOR = "http://www.w3.org/TR/scxml/#SCXMLEventProcessor"

ET.register_namespace("", SCXML)
ET.register_namespace("conf", CONF)

_OPS = {"=": "==", "<": "<", ">": ">", "<=": "<=", ">=": ">=", "==": "=="}


def _var(n: str) -> str:
    return f"Var{n.strip()}"


def _compare(value: str, right: Callable[[str], str]) -> str:
    """``"1=2"`` → ``Var1 == <right("2")>`` (the XSLT's ``([0-9]+)([=<>]=?)(.*)``)."""
    m = re.fullmatch(r"\s*([0-9]+)([=<>]=?)(.*)", value)
    if m is None:
        raise ValueError(f"cannot read comparison {value!r}")
    return f"{_var(m.group(1))} {_OPS[m.group(2)]} {right(m.group(3).strip())}"


def _two(value: str) -> tuple[str, str]:
    m = re.fullmatch(r"\s*(\w+)\W+(\w+)\s*", value)
    if m is None:
        raise ValueError(f"cannot read two ids from {value!r}")
    return m.group(1), m.group(2)


# attribute placeholder -> (new attribute name, value) pairs
ATTRIBUTES: dict[str, Callable[[str], list[tuple[str, str]]]] = {
    # success and failure
    "targetpass": lambda v: [("target", "pass")],
    "targetfail": lambda v: [("target", "fail")],
    "datamodel": lambda v: [("datamodel", "cel")],
    # names of variables: conf:id="1" is the variable Var1
    "id": lambda v: [("id", _var(v))],
    "name": lambda v: [("name", _var(v))],
    "location": lambda v: [("location", _var(v))],
    "systemVarLocation": lambda v: [("location", v)],
    "invalidLocation": lambda v: [("location", "foo.bar.baz")],
    "idlocation": lambda v: [("idlocation", _var(v))],
    "namelist": lambda v: [("namelist", _var(v))],
    "invalidNamelist": lambda v: [("namelist", "undeclaredVariable")],
    "item": lambda v: [("item", _var(v))],
    "illegalItem": lambda v: [("item", "'continue'")],
    "index": lambda v: [("index", _var(v))],
    "arrayVar": lambda v: [("array", _var(v))],
    "arrayTextVar": lambda v: [("array", _var(v))],
    # value expressions
    "expr": lambda v: [("expr", v)],
    "quoteExpr": lambda v: [("expr", f"'{v}'")],
    "varExpr": lambda v: [("expr", _var(v))],
    "varChildExpr": lambda v: [("expr", _var(v))],
    "systemVarExpr": lambda v: [("expr", v)],
    "varNonexistentStruct": lambda v: [("expr", f"{_var(v)}.bar")],
    "illegalExpr": lambda v: [("expr", "1 / 0")],  # compiles, fails when evaluated
    "illegalArray": lambda v: [("expr", "7")],
    "invalidSessionID": lambda v: [("expr", "27")],
    "invalidSendTypeExpr": lambda v: [("expr", "27")],
    "eventName": lambda v: [("expr", "_event.name")],
    "eventType": lambda v: [("expr", "_event.type")],
    "eventSendid": lambda v: [("expr", "_event.sendid")],
    "eventField": lambda v: [("expr", f"_event.{v}")],
    "eventRaw": lambda v: [("expr", "_event.raw")],
    "eventDataFieldValue": lambda v: [("expr", f"_event.data.{v}")],
    "eventDataParamValue": lambda v: [("expr", f"_event.data.{v}")],
    "eventDataNamelistValue": lambda v: [("expr", f"_event.data.{_var(v)}")],
    "scxmlEventIOLocation": lambda v: [("expr", f"_ioprocessors['{IO_PROCESSOR}'].location")],
    # <send>/<invoke> attributes taken from variables
    "eventExpr": lambda v: [("eventexpr", _var(v))],
    "targetExpr": lambda v: [("targetexpr", _var(v))],
    "targetVar": lambda v: [("targetexpr", _var(v))],
    "typeExpr": lambda v: [("typeexpr", _var(v))],
    "delayExpr": lambda v: [("delayexpr", _var(v))],
    "delayFromVar": lambda v: [("delayexpr", _var(v))],
    "sendIDExpr": lambda v: [("sendidexpr", _var(v))],
    "srcExpr": lambda v: [("srcexpr", _var(v))],
    "delay": lambda v: [("delay", f"{v}s")],
    "illegalTarget": lambda v: [("target", "baz")],
    "unreachableTarget": lambda v: [("target", "#_scxml_foo")],
    "invalidSendType": lambda v: [("type", "27")],
    "basicHTTPAccessURITarget": lambda v: [
        ("targetexpr", "_ioprocessors['basichttp']['location']")
    ],
    # conditions
    "idVal": lambda v: [("cond", _compare(v, lambda r: r))],
    "namelistIdVal": lambda v: [("cond", _compare(v, lambda r: r))],
    "varIdVal": lambda v: [("cond", _compare(v, _var))],
    "compareIDVal": lambda v: [("cond", _compare(v, _var))],
    "idQuoteVal": lambda v: [("cond", _compare(v, lambda r: f"'{r}'"))],
    "idSystemVarVal": lambda v: [("cond", _compare(v, lambda r: r))],
    "eventvarVal": lambda v: [
        ("cond", _compare(v, lambda r: r).replace("Var", "_event.data.Var", 1))
    ],
    "VarEqVar": lambda v: [("cond", "{} == {}".format(*map(_var, _two(v))))],
    "VarEqVarStruct": lambda v: [("cond", "{} == {}".format(*map(_var, _two(v))))],
    "varPrefix": lambda v: [("cond", "{1}.startsWith({0})".format(*map(_var, _two(v))))],
    "idSomeVal": lambda v: [("cond", f"{_var(v)} == 123")],
    "eventdataSomeVal": lambda v: [("cond", "_event.data == 123")],
    "eventNameVal": lambda v: [("cond", f"_event.name == '{v}'")],
    "eventdataVal": lambda v: [("cond", f"_event.data == {v}")],
    "emptyEventData": lambda v: [("cond", "_event.data == null")],
    "nameVarVal": lambda v: [("cond", f"_name == '{v}'")],
    "originTypeEq": lambda v: [("cond", f"_event.origintype == '{v}'")],
    "inState": lambda v: [("cond", f"In('{v}')")],
    "nonBoolean": lambda v: [("cond", "'not a boolean'")],
    "isBound": lambda v: [("cond", f"{_var(v)} != null")],
    "unboundVar": lambda v: [("cond", f"{_var(v)} == null")],
    "noValue": lambda v: [("cond", f"{_var(v)} == null")],
    "systemVarIsBound": lambda v: [("cond", f"{v} != null")],
    "true": lambda v: [("cond", "true")],
    "false": lambda v: [("cond", "false")],
    "eventFieldsAreBound": lambda v: [
        (
            "cond",
            " && ".join(
                f"'{f}' in _event"
                for f in ("name", "type", "sendid", "origin", "origintype", "invokeid", "data")
            ),
        )
    ],
    "eventDataHasField": lambda v: [("cond", f"'{v}' in _event.data")],
    "eventFieldHasNoValue": lambda v: [("cond", f"_event.{v} == null")],
    # Basic HTTP event I/O processor (optional, needs HTTP): kept recognisable
    "methodIsPost": lambda v: [("cond", "_event.raw.contains('POST')")],
    "messageBodyEquals": lambda v: [("cond", f"_event.raw.contains('{v}')")],
    "eventIdParamHasValue": lambda v: [("cond", f"_event.raw.contains('{v}')")],
    "eventNamedParamHasValue": lambda v: [("cond", f"_event.raw.contains('{v}')")],
    "scriptBadSrc": lambda v: [("src", "D:\\foo")],
}


def _el(tag: str, **attrs: str) -> ET.Element:
    return ET.Element(f"{{{SCXML}}}{tag}", attrs)


def _final(name: str) -> ET.Element:
    final = _el("final", id=name)
    onentry = ET.SubElement(final, f"{{{SCXML}}}onentry")
    ET.SubElement(onentry, f"{{{SCXML}}}log", label="Outcome", expr=f"'{name}'")
    return final


def _sum(el: ET.Element) -> ET.Element:
    a, b = _var(el.get("id1", "")), _var(el.get("id2", ""))
    return _el("assign", location=a, expr=f"{a} + {b}")


# element placeholder -> replacement element (None: replaced by text, see TEXTS)
ELEMENTS: dict[str, Callable[[ET.Element], ET.Element]] = {
    "pass": lambda el: _final("pass"),
    "fail": lambda el: _final("fail"),
    "incrementID": lambda el: _el(
        "assign", location=_var(el.get("id", "")), expr=f"{_var(el.get('id', ''))} + 1"
    ),
    "concatVars": _sum,
    "sumVars": _sum,
    "extendArray": lambda el: _el(
        "assign", location=_var(el.get("id", "")), expr=f"{_var(el.get('id', ''))} + [4]"
    ),
    "sendToSender": lambda el: _el(
        "send", event=el.get("name", ""), targetexpr="_event.origin", typeexpr="_event.origintype"
    ),
    "script": lambda el: _el("script"),
}
# placeholders that stand for inline text
TEXTS = {"array123": "[1,2,3]", "someInlineVal": "123"}
CONTENT = {"contentFoo": "foo"}


def convert_text(text: str) -> str:
    """The SCXML (cel datamodel) text of one ``.txml`` test."""
    root = ET.fromstring(text)
    _convert(root)
    return ET.tostring(root, encoding="unicode") + "\n"


def _convert(el: ET.Element) -> None:
    for key in list(el.attrib):
        if key.startswith(f"{{{CONF}}}"):
            name = key[len(CONF) + 2 :]
            rule = ATTRIBUTES.get(name)
            if rule is None:
                raise ValueError(f"no rule for attribute conf:{name}")
            value = el.attrib.pop(key)
            for new, new_value in rule(value):
                el.set(new, new_value)
    children = list(el)
    for i, child in enumerate(children):
        if not isinstance(child.tag, str):
            continue
        if child.tag.startswith(f"{{{CONF}}}"):
            name = child.tag[len(CONF) + 2 :]
            if name in TEXTS:
                el.remove(child)
                el.text = (el.text or "") + TEXTS[name] + (child.tail or "")
                continue
            if name in CONTENT:
                replacement = _el("content")
                replacement.text = CONTENT[name]
            elif name in ELEMENTS:
                replacement = ELEMENTS[name](child)
            else:
                raise ValueError(f"no rule for element conf:{name}")
            replacement.tail = child.tail
            el.remove(child)
            el.insert(i, replacement)
            _convert(replacement)
        else:
            _convert(child)


def generate() -> list[Path]:
    GENERATED.mkdir(exist_ok=True)
    written = []
    for source in sorted(TXML.glob("*.txml")):
        target = GENERATED / (source.stem + ".scxml")
        target.write_text(convert_text(source.read_text()))
        written.append(target)
    for extra in sorted(TXML.glob("*.txt")):
        (GENERATED / extra.name).write_bytes(extra.read_bytes())
    return written


if __name__ == "__main__":
    paths = generate()
    print(f"wrote {len(paths)} charts to {GENERATED}", file=sys.stderr)
