"""What every provider adapter shares: the error type, the clock, redaction and the HTTP helper.

An adapter turns one AIRequest into one AIOutput, or raises ProviderError with a normalised Reason
(PROVIDERS.md §8). It talks to the network only through bitethemenu.http.request, so timeouts,
the User-Agent and the scheme whitelist are enforced in one place, and transport failures arrive
as fixed, secret-free phrases.
"""

from __future__ import annotations

import base64
import re
import time
from email.utils import parsedate_to_datetime
from typing import Any

from django.conf import settings

from bitethemenu import http
from resilience.errors import Reason
from resilience.registry import is_operator_url, operator_trusted_hosts
from resilience.types import AIOutput, AIRequest


class ProviderError(Exception):
    """One failed call. `short` is secret-free (redacted) and shown to the super admin; `retry_after`
    is the provider's Retry-After in seconds, when it sent one. A resumable adapter (KIE) that leaves
    work unfinished at the provider sets `task_id` (named in the audit: the provider may still bill it)
    and `resume` (handed back to its next try in the same walk, so it polls the same task instead of
    paying for a second one)."""

    def __init__(
        self,
        reason: Reason,
        short: str,
        status_code: int | None = None,
        retry_after: float | None = None,
    ):
        super().__init__(short)
        self.reason = Reason(reason)
        self.short = short
        self.status_code = status_code
        self.retry_after = retry_after
        self.task_id = ""
        self.resume: dict[str, Any] | None = None

    @property
    def short(self) -> str:
        return self._short

    @short.setter
    def short(self, value: str) -> None:
        # Adapters redact `short` after building the error: keep str(error) and a traceback's last line
        # (both read `args`) on the redacted text too, so a logged exception never shows the raw message.
        self._short = value
        self.args = (value,)

    def __repr__(self) -> str:
        return f"ProviderError({self.reason.value!r}, {self.short!r}, status_code={self.status_code!r})"


class Clock:
    """Monotonic time and sleeping, in one patchable object: the cascade's deadline, its Retry-After
    waits and KIE's polling all use `CLOCK`, so tests swap in a fake and never sleep for real."""

    def now(self) -> float:
        return time.monotonic()

    def sleep(self, seconds: float) -> None:
        if seconds > 0:
            time.sleep(seconds)


CLOCK = Clock()

# --- Redaction ---------------------------------------------------------------------------------

_URL = re.compile(r"\b(?:https?|wss?)://\S+", re.IGNORECASE)
_BEARER = re.compile(r"\b(bearer|basic)\s+\S+", re.IGNORECASE)
_KEYLIKE = re.compile(r"\b(?:sk|pk|rk|key|org|proj)-[A-Za-z0-9_\-*.]{4,}", re.IGNORECASE)
_LONG_TOKEN = re.compile(r"\b[A-Za-z0-9_\-]{32,}\b")
_QUERY_SECRET = re.compile(r"([?&](?:key|api_key|token|access_token|signature)=)[^&\s]+", re.IGNORECASE)
MAX_SHORT = 200


def redact(text: str, *, secrets: tuple[str, ...] = ()) -> str:
    """`text` with anything secret-shaped removed: the given secrets and every secret value this
    server is configured with (all provider keys, the Slack webhook, SECRET_KEY, database and Redis
    passwords: resilience.secret_values), URLs (and their query strings), bearer tokens, key-like
    and long opaque tokens. Collapsed to one line and capped at 200 chars."""
    from resilience.secret_values import configured_secrets  # lazy: reads settings and the registry

    for secret in (*sorted(secrets, key=len, reverse=True), *configured_secrets()):
        if secret and len(secret) >= 4:
            text = text.replace(secret, "[redacted]")
    text = _QUERY_SECRET.sub(r"\1[redacted]", text)
    text = _URL.sub("[url]", text)
    text = _BEARER.sub(r"\1 [redacted]", text)
    text = _KEYLIKE.sub("[redacted]", text)
    text = _LONG_TOKEN.sub("[redacted]", text)
    text = " ".join(text.split())
    return text if len(text) <= MAX_SHORT else text[: MAX_SHORT - 1] + "…"


# --- Small parsing helpers ---------------------------------------------------------------------


def parse_retry_after(value: str | None) -> float | None:
    """Retry-After as seconds: delta-seconds or an HTTP date (RFC 9110 §10.2.3). None if absent/bad."""
    if not value:
        return None
    value = value.strip()
    try:
        seconds = float(value)
    except ValueError:
        try:
            seconds = parsedate_to_datetime(value).timestamp() - time.time()
        except (TypeError, ValueError, IndexError, OverflowError):
            return None
    return max(0.0, seconds)


def retry_after_of(response: http.Response) -> float | None:
    """The wait a provider asked for: OpenAI's `retry-after-ms` (what its SDK reads first), else the
    standard `Retry-After`."""
    milliseconds = response.header("retry-after-ms")
    if milliseconds:
        try:
            return max(0.0, float(milliseconds) / 1000)
        except ValueError:
            pass
    return parse_retry_after(response.header("retry-after"))


def data_url(content: bytes, mime: str) -> str:
    return f"data:{mime or 'application/octet-stream'};base64,{base64.b64encode(content).decode('ascii')}"


def decode_data_url(value: str) -> tuple[bytes, str]:
    """(bytes, mime) from a `data:<mime>;base64,...` URL; raises ValueError if it is not one."""
    if not value.startswith("data:") or ";base64," not in value:
        raise ValueError("not a base64 data URL")
    header, _, payload = value.partition(";base64,")
    return base64.b64decode(payload, validate=True), header[5:]


def sniff_image_mime(content: bytes) -> str:
    """The image type from its magic bytes, or "" when it is not an image we recognise."""
    if content.startswith(b"\x89PNG\r\n\x1a\n"):
        return "image/png"
    if content.startswith(b"\xff\xd8\xff"):
        return "image/jpeg"
    if content.startswith(b"RIFF") and content[8:12] == b"WEBP":
        return "image/webp"
    if content[:6] in (b"GIF87a", b"GIF89a"):
        return "image/gif"
    return ""


USABLE_IMAGE_FORMATS = {"image/png": "PNG", "image/jpeg": "JPEG", "image/webp": "WEBP"}


def image_problem(content: bytes | None) -> str:
    """Why an image answer cannot be used ("" when it can): the Library keeps PNG, JPEG and WebP up
    to settings.MAX_IMAGE_BYTES (the limit of API.md), and Pillow must agree the bytes are that image."""
    import io

    from django.conf import settings
    from PIL import Image, UnidentifiedImageError

    if not content:
        return "no image in the answer"
    limit = settings.MAX_IMAGE_BYTES
    if len(content) > limit:
        return f"the image is over {limit // (1024 * 1024)} MiB"
    mime = sniff_image_mime(content)
    if mime not in USABLE_IMAGE_FORMATS:
        return f"the image is not PNG, JPEG or WebP ({mime or 'unknown type'})"
    try:
        with Image.open(io.BytesIO(content)) as image:
            decoded_as = image.format
            if image.width * image.height > settings.MAX_IMAGE_PIXELS:  # header only: nothing decoded
                return f"the image is over {settings.MAX_IMAGE_PIXELS // 1_000_000} megapixels"
            image.verify()
    except (UnidentifiedImageError, OSError, SyntaxError, ValueError, Image.DecompressionBombError):
        return "the image is damaged"
    if decoded_as != USABLE_IMAGE_FORMATS[mime]:
        return "the image is damaged"
    return ""


def image_prompt(request: AIRequest) -> str:
    """The prompt an image model sees: the user's prompt with the style preset folded in."""
    if request.style:
        return f"{request.prompt.strip()}\n\nStyle: {request.style.strip()}."
    return request.prompt.strip()


OCR_INSTRUCTION = (
    "Transcribe all text in this menu as plain text, keeping dish names, descriptions and prices "
    "on their lines. Return only the transcription."
)


def malformed(short: str, status_code: int | None = None) -> ProviderError:
    return ProviderError(Reason.MALFORMED_RESPONSE, short, status_code)


def vectors_from(data: Any, *, count: int, status_code: int | None = None) -> tuple[tuple[float, ...], ...]:
    """OpenAI-shaped `data[].embedding` as vectors in input order; malformed_response unless there is
    one same-length, non-empty numeric vector per input."""
    if not isinstance(data, list) or len(data) != count:
        raise malformed("embeddings missing or wrong count", status_code)
    try:
        ordered = sorted(data, key=lambda item: item.get("index", 0))
        vectors = tuple(tuple(float(x) for x in item["embedding"]) for item in ordered)
    except (AttributeError, KeyError, TypeError, ValueError):
        raise malformed("embedding is not a list of numbers", status_code) from None
    if not vectors or not vectors[0] or any(len(v) != len(vectors[0]) for v in vectors):
        raise malformed("embeddings have inconsistent lengths", status_code)
    return vectors


# --- The adapter base class --------------------------------------------------------------------


class Adapter:
    """Base for provider adapters. Subclasses implement `call` and `classify`.

    `call(kind, request, *, model, base_url, api_key, timeout) -> AIOutput` makes the call(s) for one
    attempt within `timeout` seconds in total, and raises ProviderError on any failure. A "success"
    without usable output (no image, empty text, missing vectors) is malformed_response.
    """

    provider_id = ""
    # True when `call` takes `resume=` (the state a failed try left in ProviderError.resume).
    resumable = False
    allow_http = False  # only openai_compatible: admin-entered http:// URLs on a private network

    def call(
        self, kind: str, request: AIRequest, *, model: str, base_url: str, api_key: str, timeout: float
    ) -> AIOutput:
        raise NotImplementedError

    def requires_reference(self, kind: str, model: str) -> bool:
        """True when this model cannot run without a reference image (the cascade then skips it)."""
        return False

    def classify(self, status: int, body: Any, text: str, headers: dict[str, str]) -> ProviderError:
        """Map an error response (status, parsed JSON body or None, raw text) to a ProviderError."""
        return classify_by_status(status, text)

    # -- shared HTTP plumbing --

    def send(
        self,
        method: str,
        url: str,
        *,
        timeout: float,
        api_key: str = "",
        headers: dict[str, str] | None = None,
        max_bytes: int | None = None,
        **kwargs: Any,
    ) -> tuple[http.Response, Any]:
        """One HTTP call through the seam. Returns (response, parsed JSON) for a 2xx JSON answer;
        raises ProviderError for transport failures, error statuses (via `classify`) and non-JSON
        success bodies. The answer is read up to `max_bytes` (default settings.AI_MAX_JSON_BYTES)."""
        # A base URL the operator chose (environment or registry default) may be http://, as in the
        # official SDKs, and its host may be private; an admin-entered override keeps the adapter's
        # scheme rule and the address guard.
        try:
            response = http.request(
                method,
                url,
                timeout=max(timeout, 0.01),
                max_bytes=max_bytes,
                headers=headers,
                allow_http=self.allow_http or is_operator_url(url),
                trusted_hosts=operator_trusted_hosts(),
                **kwargs,
            )
        except http.OutboundError as exc:
            raise transport_error(exc) from None
        body = _json_or_none(response)
        if not response.ok:
            error = self.classify(response.status, body, response.text, response.headers)
            error.short = redact(error.short, secrets=(api_key,))
            if error.retry_after is None:
                error.retry_after = retry_after_of(response)
            raise error
        if body is None:
            raise malformed("response is not JSON", response.status)
        return response, body

    def fail(self, error: ProviderError, *, api_key: str = "") -> ProviderError:
        """`error` with its message redacted (for errors found in a 200 body)."""
        error.short = redact(error.short, secrets=(api_key,))
        return error


def _json_or_none(response: http.Response) -> Any:
    try:
        return response.json()
    except (ValueError, UnicodeDecodeError):
        return None


def transport_error(exc: http.OutboundError) -> ProviderError:
    """No usable response came back: a timeout is `timeout`; an answer over its size cap is
    `malformed_response`; a refused scheme or a refused private address is our configuration
    (`bad_request`, which the breaker does not count); anything else (DNS, refused, reset, TLS) is
    `server`."""
    if exc.kind == "timeout":
        return ProviderError(Reason.TIMEOUT, exc.short)
    if exc.kind == "too_large":
        return ProviderError(Reason.MALFORMED_RESPONSE, exc.short)
    if exc.kind in ("refused_scheme", "blocked"):
        return ProviderError(Reason.BAD_REQUEST, exc.short)
    return ProviderError(Reason.SERVER, exc.short)


def image_answer_max_bytes() -> int:
    """The size cap for a JSON answer that carries an image as base64 (4 bytes for every 3)."""
    return settings.MAX_IMAGE_BYTES * 4 // 3 + settings.AI_MAX_JSON_BYTES


def classify_by_status(status: int, message: str = "") -> ProviderError:
    """The last rule of §8: an error nothing more specific matched, by HTTP status class."""
    short = message.strip() or f"HTTP {status}"
    if status in (401, 403):
        return ProviderError(Reason.AUTH, short, status)
    if status == 402:
        return ProviderError(Reason.QUOTA, short, status)
    if status == 404:
        return ProviderError(Reason.MODEL_NOT_FOUND, short, status)
    if status in (408, 504):
        return ProviderError(Reason.TIMEOUT, short, status)
    if status == 429:
        return ProviderError(Reason.RATE_LIMIT, short, status)
    if status >= 500:
        return ProviderError(Reason.SERVER, short, status)
    return ProviderError(Reason.BAD_REQUEST, short, status)


def error_fields(body: Any) -> tuple[str, str, str, Any]:
    """(code, type, message, error-object) from an `{"error": {...}}` envelope, tolerating shapes."""
    error = body.get("error") if isinstance(body, dict) else None
    if isinstance(error, str):
        return "", "", error, {}
    if not isinstance(error, dict):
        return "", "", "", {}
    code = error.get("code")
    return (
        "" if code is None else str(code),
        str(error.get("type") or ""),
        str(error.get("message") or ""),
        error,
    )
