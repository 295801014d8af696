"""Dialects: the file formats of tool-calling examples, read into one model and written back.

:class:`Conversation` (turns of text and :class:`Call` parts) is the model; a dialect is a
reader and a writer around it: ``text`` (the ``tool_call:`` / ``arguments:`` /
``Result:`` grammar inside ``conversations``), ``openai`` (``messages`` with
``tool_calls`` and ``tool`` results), ``sharegpt`` (``from``/``value`` with
``function_call`` and ``observation`` entries) and ``hermes`` (``<tool_call>`` /
``<tool_response>`` tags). The stages read every row as the text grammar (:func:`as_text_grammar`,
:class:`FileDialect`) and an improve run writes its rows back in the input's dialect
(:func:`restyle`: in the input row's own form, its unchanged turns verbatim).
"""

from __future__ import annotations

from ._canonical import FileDialect, as_text_grammar, canonical, in_dialect
from ._conversation import ROLES, Call, Conversation, Turn, render_call
from ._detect import DIALECTS, Dialect, check_dialect, detect_dialect
from ._openai import read_openai, write_openai
from ._read import read_conversation
from ._style import restyle
from ._tagged import read_hermes, read_sharegpt, write_hermes, write_sharegpt
from ._text import read_text, write_text

__all__ = [
    "Call",
    "Conversation",
    "DIALECTS",
    "Dialect",
    "FileDialect",
    "ROLES",
    "Turn",
    "as_text_grammar",
    "canonical",
    "check_dialect",
    "detect_dialect",
    "in_dialect",
    "read_conversation",
    "read_hermes",
    "read_openai",
    "read_sharegpt",
    "read_text",
    "render_call",
    "restyle",
    "write_hermes",
    "write_openai",
    "write_sharegpt",
    "write_text",
]
