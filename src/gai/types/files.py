"""`File`: an image, a document, audio or any other file given to a model."""

from __future__ import annotations

import base64
import mimetypes
from pathlib import Path
from typing import Literal

from gai.types.base import Value, readonly

__all__ = ["File", "FileKind"]

FileKind = Literal["image", "document", "audio", "video", "other"]
"""What a file is to a model, from its media type."""

_DOCUMENTS = frozenset({"application/pdf", "text/plain", "text/csv", "text/markdown", "text/html"})


@readonly(kw_only=True)
class File(Value):
    """A file in a message: inline (its bytes travel in the request) or by URL.

    Build one with `File.from_path`, `File.from_bytes` or `File.from_url`. Each provider
    sends it in its own shape (Anthropic `image`/`document` blocks, OpenAI `image_url`,
    `file` and `input_audio` parts, Responses `input_image`/`input_file`, Gemini
    `inlineData`/`fileData`, Ollama `images`); a provider that cannot take a kind of
    file says so with a `UserError` before anything is sent.
    """

    kind: Literal["file"] = "file"
    media_type: str
    """MIME type, e.g. "image/png", "application/pdf", "audio/mpeg"."""
    data: str | None = None
    """The file's bytes, base64-encoded, when it travels inline."""
    url: str | None = None
    """Where the provider can fetch it (`https://...`, `gs://...`), when not inline."""
    filename: str | None = None
    """A name to show the model (some providers require one for documents)."""

    def __post_init__(self) -> None:
        if (self.data is None) == (self.url is None):
            raise ValueError("a File holds either data= (base64) or url=, exactly one")

    @classmethod
    def from_bytes(cls, data: bytes, media_type: str, filename: str | None = None) -> File:
        """An inline file.

        Args:
            data: The file's bytes.
            media_type: Its MIME type, e.g. "application/pdf".
            filename: A name to show the model.
        """
        return cls(media_type=media_type, data=base64.b64encode(data).decode(), filename=filename)

    @classmethod
    def from_path(cls, path: str | Path, media_type: str | None = None) -> File:
        """An inline file read from disk; its media type guessed from its name if not given.

        Raises:
            ValueError: The media type cannot be guessed from the file's name.
        """
        path = Path(path)
        return cls.from_bytes(path.read_bytes(), media_type or _guess(path.name), path.name)

    @classmethod
    def from_url(cls, url: str, media_type: str | None = None) -> File:
        """A file the provider fetches; its media type guessed from the URL if not given.

        Raises:
            ValueError: The media type cannot be guessed from the URL.
        """
        return cls(media_type=media_type or _guess(url.split("?", 1)[0]), url=url)

    @property
    def file_kind(self) -> FileKind:
        """Image, document, audio, video or other, from the media type."""
        major = self.media_type.split("/", 1)[0]
        if major in ("image", "audio", "video"):
            return major  # type: ignore[return-value]
        if self.media_type in _DOCUMENTS:
            return "document"
        return "other"

    @property
    def data_url(self) -> str:
        """The file as a `data:` URL (inline files), or its URL."""
        if self.data is None:
            return self.url or ""
        return f"data:{self.media_type};base64,{self.data}"

    def __repr__(self) -> str:
        # The bytes stay out of reprs, logs and tracebacks: their size says enough.
        where = (
            f"url={self.url!r}"
            if self.url is not None
            else f"{len(self.data or '') * 3 // 4} bytes"
        )
        return f"File({self.media_type}, {where})"


def _guess(name: str) -> str:
    guessed, _ = mimetypes.guess_type(name)
    if guessed is None:
        raise ValueError(f"cannot tell the media type of {name!r}: pass media_type=")
    return guessed
