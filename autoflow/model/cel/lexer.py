"""The CEL lexer: source text to tokens, each with its character offsets."""

from __future__ import annotations

import re
from dataclasses import dataclass
from typing import Any

from autoflow.model.cel.values import INT64_MAX, UINT64_MAX, UInt


class SyntaxProblem(Exception):
    """A problem at ``offset..end`` of the expression source (turned into an ExpressionError)."""

    def __init__(self, message: str, offset: int, end: int | None = None, hint: str | None = None):
        super().__init__(message)
        self.message = message
        self.offset = offset
        self.end = end if end is not None else offset + 1
        self.hint = hint


@dataclass(frozen=True, slots=True)
class Token:
    """``kind`` is ``int``, ``uint``, ``double``, ``string``, ``bytes``, ``ident``, ``eof``,
    a keyword (``true``, ``false``, ``null``, ``in``) or the punctuation itself (``&&``)."""

    kind: str
    text: str
    offset: int
    end: int
    value: Any = None


KEYWORDS = frozenset({"true", "false", "null", "in"})
RESERVED = frozenset(
    {
        "as",
        "break",
        "const",
        "continue",
        "else",
        "for",
        "function",
        "if",
        "import",
        "let",
        "loop",
        "package",
        "namespace",
        "return",
        "var",
        "void",
        "while",
    }
)

_PUNCTUATION = (
    "==",
    "!=",
    "<=",
    ">=",
    "&&",
    "||",
    "<",
    ">",
    "+",
    "-",
    "*",
    "/",
    "%",
    "!",
    "?",
    ":",
    ".",
    ",",
    "(",
    ")",
    "[",
    "]",
    "{",
    "}",
)

_SPACE = re.compile(r"(?:[ \t\r\n\f]+|//[^\n]*)+")
_STRING_START = re.compile(r"([rR][bB]?|[bB][rR]?)?('''|\"\"\"|'|\")")
_NUMBER = re.compile(
    r"(?P<hex>0[xX][0-9a-fA-F]+)(?P<hexu>[uU])?"
    r"|(?P<double>\d*\.\d+(?:[eE][+-]?\d+)?|\d+[eE][+-]?\d+)"
    r"|(?P<int>\d+)(?P<intu>[uU])?"
)
_IDENT = re.compile(r"[_a-zA-Z][_a-zA-Z0-9]*")

_SIMPLE_ESCAPES = {
    "a": "\a",
    "b": "\b",
    "f": "\f",
    "n": "\n",
    "r": "\r",
    "t": "\t",
    "v": "\v",
    "\\": "\\",
    "'": "'",
    '"': '"',
    "`": "`",
    "?": "?",
}


def tokenize(source: str) -> list[Token]:
    """All tokens of ``source``, ending with an ``eof`` token.

    A lexical problem ends the list with an ``error`` token whose value is the
    :class:`SyntaxProblem`, so that the parser reports an earlier syntax error first.
    """
    tokens: list[Token] = []
    try:
        _scan(source, tokens)
    except SyntaxProblem as problem:
        tokens.append(Token("error", "", problem.offset, problem.end, problem))
    return tokens


def _scan(source: str, tokens: list[Token]) -> None:
    position = 0
    length = len(source)
    while True:
        space = _SPACE.match(source, position)
        if space:
            position = space.end()
        if position >= length:
            tokens.append(Token("eof", "", length, length))
            return
        char = source[position]
        string = _STRING_START.match(source, position)
        if string:
            token = _scan_string(source, position, string.group(1) or "", string.group(2))
            tokens.append(token)
            position = token.end
            continue
        if char.isdigit() or (char == "." and source[position + 1 : position + 2].isdigit()):
            number = _NUMBER.match(source, position)
            assert number is not None
            tokens.append(_number_token(number))
            position = number.end()
            continue
        ident = _IDENT.match(source, position)
        if ident:
            text = ident.group()
            kind = text if text in KEYWORDS else "ident"
            tokens.append(Token(kind, text, position, ident.end()))
            position = ident.end()
            continue
        for punctuation in _PUNCTUATION:
            if source.startswith(punctuation, position):
                end = position + len(punctuation)
                tokens.append(Token(punctuation, punctuation, position, end))
                position = end
                break
        else:
            hint = None
            if char == "=":
                hint = "use '==' to compare; CEL has no assignment"
            elif char == "&":
                hint = "use '&&' for logical and"
            elif char == "|":
                hint = "use '||' for logical or"
            elif char == "`":
                hint = "CEL strings use single or double quotes"
            raise SyntaxProblem(f"unexpected character {char!r}", position, hint=hint)


def _number_token(match: re.Match[str]) -> Token:
    text = match.group()
    offset, end = match.span()
    if match.group("double") is not None:
        return Token("double", text, offset, end, float(text))
    if match.group("hex") is not None:
        value = int(match.group("hex"), 16)
        unsigned = match.group("hexu") is not None
    else:
        value = int(match.group("int"))
        unsigned = match.group("intu") is not None
    if unsigned:
        if value > UINT64_MAX:
            raise SyntaxProblem("uint literal out of range", offset, end)
        return Token("uint", text, offset, end, UInt(value))
    # INT64_MAX + 1 is allowed here so that -9223372036854775808 can be written;
    # the parser rejects it when it is not negated.
    if value > INT64_MAX + 1:
        raise SyntaxProblem(
            "int literal out of range", offset, end, hint="int is 64 bits; use a double (1e19)"
        )
    return Token("int", text, offset, end, value)


def _scan_string(source: str, start: int, prefix: str, quote: str) -> Token:
    raw = "r" in prefix.lower()
    is_bytes = "b" in prefix.lower()
    body_start = start + len(prefix) + len(quote)
    position = body_start
    triple = len(quote) == 3
    while True:
        if position >= len(source):
            raise SyntaxProblem(
                "unterminated string literal",
                start,
                len(source),
                hint=f"close the string with {quote}",
            )
        if source.startswith(quote, position):
            break
        char = source[position]
        if char == "\n" and not triple:
            raise SyntaxProblem(
                "unterminated string literal",
                start,
                position,
                hint="strings cannot span lines; use a triple-quoted string '''...''' "
                "or the escape \\n",
            )
        if char == "\\" and not raw:
            position += 2
        else:
            position += 1
    body = source[body_start:position]
    end = position + len(quote)
    text = source[start:end]
    if raw:
        value: str | bytes = body.encode("utf-8") if is_bytes else body
    else:
        value = _unescape(body, body_start, is_bytes)
    return Token("bytes" if is_bytes else "string", text, start, end, value)


def _unescape(body: str, offset: int, is_bytes: bool) -> str | bytes:
    """Decode CEL escapes; in bytes literals ``\\x``/octal escapes are raw bytes."""
    out = bytearray()
    chars: list[str] = []
    index = 0
    length = len(body)

    def emit_text(text: str) -> None:
        if is_bytes:
            out.extend(text.encode("utf-8"))
        else:
            chars.append(text)

    while index < length:
        char = body[index]
        if char != "\\":
            emit_text(char)
            index += 1
            continue
        escape = body[index + 1 : index + 2]
        where = offset + index
        if escape in _SIMPLE_ESCAPES:
            emit_text(_SIMPLE_ESCAPES[escape])
            index += 2
        elif escape in ("x", "X"):
            digits = body[index + 2 : index + 4]
            if len(digits) != 2 or not _is_hex(digits):
                raise SyntaxProblem("invalid \\x escape: expected two hex digits", where, where + 4)
            _emit_code(int(digits, 16), is_bytes, out, chars)
            index += 4
        elif escape in ("u", "U"):
            width = 4 if escape == "u" else 8
            digits = body[index + 2 : index + 2 + width]
            if is_bytes:
                raise SyntaxProblem(f"\\{escape} escape is not allowed in bytes", where, where + 2)
            if len(digits) != width or not _is_hex(digits):
                raise SyntaxProblem(
                    f"invalid \\{escape} escape: expected {width} hex digits",
                    where,
                    where + 2 + width,
                )
            code = int(digits, 16)
            if code > 0x10FFFF or 0xD800 <= code <= 0xDFFF:
                raise SyntaxProblem("invalid unicode code point", where, where + 2 + width)
            chars.append(chr(code))
            index += 2 + width
        elif escape in "0123" and escape:
            digits = body[index + 1 : index + 4]
            if len(digits) != 3 or any(d not in "01234567" for d in digits):
                raise SyntaxProblem(
                    "invalid octal escape: expected three octal digits", where, where + 4
                )
            _emit_code(int(digits, 8), is_bytes, out, chars)
            index += 4
        else:
            raise SyntaxProblem(
                f"invalid escape sequence \\{escape}",
                where,
                where + 2,
                hint="to write a backslash use \\\\ or a raw string r'...'",
            )
    if is_bytes:
        return bytes(out)
    return "".join(chars)


def _emit_code(code: int, is_bytes: bool, out: bytearray, chars: list[str]) -> None:
    if is_bytes:
        out.append(code)
    else:
        chars.append(chr(code))


def _is_hex(text: str) -> bool:
    return all(char in "0123456789abcdefABCDEF" for char in text)
