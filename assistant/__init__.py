"""The LIVC-assistent: cited answers from the LIVC-R draaiboek and its Q&A sheet.

The public surface, for programs that use the library rather than the chat or the API::

    from assistant import Assistant, Settings

    assistant = Assistant.open(Settings.load())
    answer = assistant.ask("Wie zit de LIVC-R voor?")
    print(answer.text, [c.passage.section for c in answer.citations])

Inside, three floors whose imports run one way (checked by import-linter):
``assistant.ops`` (the ``livc`` command, evaluation, bench) uses ``assistant.web`` (the
app, chat, API, widget) and ``assistant.core`` (documents, index, retrieval, answers,
privacy); ``web`` uses ``core``; ``core`` uses neither. Names are loaded on first use, so
``import assistant`` stays cheap for commands that never answer a question.
"""

from __future__ import annotations

from importlib import import_module

_PUBLIC = {
    "Assistant": "assistant.core.assistant",
    "Settings": "assistant.core.settings",
    "Answer": "assistant.core.types",
    "Citation": "assistant.core.types",
    "Hit": "assistant.core.types",
    "Retrieval": "assistant.core.types",
    "Passage": "assistant.core.chunking",
    "Document": "assistant.core.documents",
    "Section": "assistant.core.documents",
    "LivcError": "assistant.core.errors",
    "SettingsError": "assistant.core.errors",
    "DocumentError": "assistant.core.errors",
    "EmbedderError": "assistant.core.errors",
    "StoreError": "assistant.core.errors",
    "StoreUnavailable": "assistant.core.errors",
    "QuestionError": "assistant.core.errors",
    "PersonalDataError": "assistant.core.errors",
}

__all__ = sorted(_PUBLIC)


def __getattr__(name: str):
    if name not in _PUBLIC:
        raise AttributeError(f"module 'assistant' has no attribute {name!r}")
    return getattr(import_module(_PUBLIC[name]), name)


def __dir__() -> list[str]:
    return __all__
