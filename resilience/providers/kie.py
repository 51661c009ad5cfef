"""KIE.ai (Nano Banana family): createTask → poll recordInfo → download the result (PROVIDERS.md §1).

- Reference images must be URLs: they are uploaded first through KIE's file API at
  KIE_UPLOAD_BASE_URL (`/api/file-base64-upload` → `data.downloadUrl`,
  https://docs.kie.ai/file-upload-api/upload-file-base-64).
- KIE answers errors as **HTTP 200 with the error in the body `code`** (401, 402, 422, 429, 455, 500,
  501, 505): classify by the body code when present and ≠ 200, else by the HTTP status
  (https://docs.kie.ai/ — "Response status codes").
- Safety refusals are not HTTP errors: the task ends `state: "fail"` with a moderation failMsg.
- Polling uses resilience.providers.base.CLOCK, so tests never sleep for real.
"""

from __future__ import annotations

import hashlib
import json
import re
from typing import Any

from django.conf import settings

from resilience.errors import TRANSIENT_REASONS, Reason
from resilience.providers import base
from resilience.providers.base import (
    Adapter,
    ProviderError,
    classify_by_status,
    data_url,
    image_prompt,
    malformed,
    parse_retry_after,
    sniff_image_mime,
)
from resilience.registry import kie_upload_base_url
from resilience.types import AIOutput, AIRequest

REQUEST_TIMEOUT = 30.0  # one HTTP call (create, poll, upload, download)
NULL_RECORD_POLLS = 3  # "recordInfo is null" can appear briefly right after createTask
# A poll that is rate limited (recordInfo allows ≤ 10 req/s per key) or hits a transient error says
# nothing about the task, which keeps running — and is billed if it succeeds. Keep polling rather than
# abandon it (the cascade's retry would then pay for a second task); give up after this many in a row.
POLL_ERRORS_TOLERATED = 3
RATE_LIMIT_WAIT = 10.0  # a 429 is not queued: KIE allows 20 new tasks per 10 s

_SAFETY = re.compile(
    r"sensitive|flagged|safety|moderat|prohibited|content polic|rejected|blocked|caught by", re.IGNORECASE
)
_TRANSIENT = re.compile(r"internal error|try again later|server is busy|timeout|timed out", re.IGNORECASE)
_WAITING = {"waiting", "queuing", "generating"}

EDIT_MODELS = {"google/nano-banana-edit"}  # prompt + image_urls, both required
TEXT_ONLY_MODELS = {"google/nano-banana"}  # no reference input at all


def browser_like_user_agent() -> str:
    """KIE's hosts sit behind Cloudflare, which may refuse a request without a browser-like User-Agent
    with a bare 403 "error code: 1010" (PROVIDERS.md §1): ours, in the form crawlers use."""
    return f"Mozilla/5.0 (compatible; {settings.AI_HTTP_USER_AGENT})"


def task_input(model: str, prompt: str, reference_url: str | None) -> dict[str, Any]:
    """The `input` object for createTask; each model family names its fields differently."""
    if model in EDIT_MODELS:
        return {
            "prompt": prompt,
            "image_urls": [reference_url] if reference_url else [],
            "output_format": "png",
            "image_size": "1:1",
        }
    if model in TEXT_ONLY_MODELS:
        return {"prompt": prompt, "output_format": "png", "image_size": "1:1"}
    fields: dict[str, Any] = {
        "prompt": prompt,
        "aspect_ratio": "1:1",
        "resolution": "1K",
        "output_format": "png",
    }
    if reference_url:
        fields["image_input"] = [reference_url]
    return fields


def envelope_error(code: int, message: str) -> ProviderError:
    """A KIE body `code` ≠ 200 (or the HTTP status when there is none) as a ProviderError."""
    short = message or f"code {code}"
    lowered = message.lower()
    if code == 401:
        return ProviderError(Reason.AUTH, short, code)
    if code in (402, 433) or "credits are insufficient" in lowered:
        # 433: the sub-key's usage limit is reached — out of credit as far as this key goes.
        return ProviderError(Reason.QUOTA, short, code)
    if code == 429:
        return ProviderError(Reason.RATE_LIMIT, short, code, retry_after=RATE_LIMIT_WAIT)
    if code == 404 or "does not exist or is not published" in lowered:
        return ProviderError(Reason.MODEL_NOT_FOUND, short, code)
    if code == 422:
        return ProviderError(Reason.BAD_REQUEST, short, code)
    if code in (455, 500, 501, 505):
        # Some 500s are validation errors in disguise ("This field is required"); the cascade retries
        # a server failure at most once, which caps the cost of that.
        return ProviderError(Reason.SERVER, short, code)
    return classify_by_status(code, short)


def task_failure(data: dict[str, Any]) -> ProviderError:
    """A task that ended `state: "fail"`, in §8 order: safety wording (unless failCode is 5xx), quota,
    rate limit, transient server trouble, then anything 4xx as our bad request."""
    fail_code = str(data.get("failCode") or "").strip()
    fail_msg = str(data.get("failMsg") or "").strip()
    short = f"task failed ({fail_code}): {fail_msg}" if fail_code else f"task failed: {fail_msg}"
    server_code = fail_code.startswith("5")
    if _SAFETY.search(fail_msg) and not server_code:
        return ProviderError(Reason.SAFETY, short)
    if fail_code == "402" or "credits are insufficient" in fail_msg.lower():
        return ProviderError(Reason.QUOTA, short)
    if fail_code == "429":
        return ProviderError(Reason.RATE_LIMIT, short, retry_after=RATE_LIMIT_WAIT)
    if server_code or _TRANSIENT.search(fail_msg):
        return ProviderError(Reason.SERVER, short)
    if fail_code.startswith("4"):
        return ProviderError(Reason.BAD_REQUEST, short)
    return ProviderError(Reason.SERVER, short)


def result_url(data: dict[str, Any]) -> str:
    """`resultJson` is a JSON *string* (tolerate an object too); read `resultUrls[0]`."""
    raw = data.get("resultJson")
    try:
        parsed: Any = json.loads(raw) if isinstance(raw, str) else raw
        url = parsed["resultUrls"][0]
    except (ValueError, TypeError, KeyError, IndexError):
        raise malformed("no result URL in the finished task", 200) from None
    if not isinstance(url, str) or not url:
        raise malformed("no result URL in the finished task", 200)
    return url


class KieAdapter(Adapter):
    provider_id = "kie"
    resumable = True

    def requires_reference(self, kind: str, model: str) -> bool:
        return kind == "image" and model in EDIT_MODELS

    def call(
        self,
        kind: str,
        request: AIRequest,
        *,
        model: str,
        base_url: str,
        api_key: str,
        timeout: float,
        resume: dict[str, Any] | None = None,
    ) -> AIOutput:
        """One try: upload the reference, create the task, poll it, download the result. With `resume`
        (what an earlier try of this walk left in ProviderError.resume) it polls that task instead:
        KIE bills a task that completes after we stopped waiting, so one request never pays twice."""
        if kind != "image":
            raise ProviderError(Reason.BAD_REQUEST, f"{kind} is not supported")
        ends_at = base.CLOCK.now() + min(timeout, settings.KIE_POLL_DEADLINE)
        headers = {"Authorization": f"Bearer {api_key}", "User-Agent": browser_like_user_agent()}
        task_id = str((resume or {}).get("task_id") or "")
        if not task_id:
            task_id = self.start_task(
                model, request, base_url=base_url, headers=headers, api_key=api_key, ends_at=ends_at
            )
        try:
            url = self.wait_for_result(
                task_id, base_url=base_url, headers=headers, api_key=api_key, ends_at=ends_at
            )
        except _TaskEnded as ended:
            raise ended.error from None
        except ProviderError as error:
            # Still queued or generating as far as we know: name it, and let a second try resume it.
            error.task_id = task_id
            error.resume = {"task_id": task_id}
            raise
        try:
            image = self.download(url, ends_at=ends_at)
        except ProviderError as error:
            error.resume = {"task_id": task_id}  # finished and billed: a second try only downloads
            raise
        return AIOutput(model=model, image=image, image_mime=sniff_image_mime(image), images=1)

    def start_task(
        self,
        model: str,
        request: AIRequest,
        *,
        base_url: str,
        headers: dict[str, str],
        api_key: str,
        ends_at: float,
    ) -> str:
        """Upload the reference image (when the model takes one), then createTask: the task id."""
        reference_url = None
        if request.has_reference and model not in TEXT_ONLY_MODELS:
            reference_url = self.upload(request, headers=headers, api_key=api_key, ends_at=ends_at)
        return self.create_task(
            model,
            task_input(model, image_prompt(request), reference_url),
            base_url=base_url,
            headers=headers,
            api_key=api_key,
            ends_at=ends_at,
        )

    # -- steps --

    def _timeout(self, ends_at: float) -> float:
        remaining = ends_at - base.CLOCK.now()
        if remaining <= 0:
            raise ProviderError(Reason.TIMEOUT, "timed out")
        return min(REQUEST_TIMEOUT, remaining)

    def _kie_json(
        self,
        method: str,
        url: str,
        *,
        headers: dict[str, str],
        api_key: str,
        ends_at: float,
        phase: str,
        **kwargs: Any,
    ) -> dict[str, Any]:
        """One KIE call; returns `data` of a body with code 200, else raises the classified error."""
        _, body = self.send(
            method, url, timeout=self._timeout(ends_at), api_key=api_key, headers=headers, **kwargs
        )
        if not isinstance(body, dict):
            raise malformed("unexpected response shape", 200)
        code = _envelope_code(body.get("code", 200))
        if code != 200:
            message = str(body.get("msg") or body.get("message") or "")
            if phase == "poll" and "recordinfo is null" in message.lower():
                raise _NullRecord()
            raise self.fail(envelope_error(code, message), api_key=api_key)
        data = body.get("data")
        if not isinstance(data, dict):
            raise malformed("no data in the response", 200)
        return data

    def upload(self, request: AIRequest, *, headers: dict[str, str], api_key: str, ends_at: float) -> str:
        content = request.reference_image or b""
        mime = request.reference_mime or sniff_image_mime(content) or "image/png"
        name = f"ref-{hashlib.sha256(content).hexdigest()[:16]}.{mime.rpartition('/')[2] or 'png'}"
        payload = {
            "base64Data": data_url(content, mime),
            "uploadPath": "bitethemenu/references",
            "fileName": name,
        }
        data = self._kie_json(
            "POST",
            f"{kie_upload_base_url()}/api/file-base64-upload",
            headers=headers,
            api_key=api_key,
            ends_at=ends_at,
            phase="upload",
            json=payload,
        )
        url = data.get("downloadUrl") or data.get("fileUrl")
        if not isinstance(url, str) or not url:
            raise malformed("the upload returned no URL", 200)
        return url

    def create_task(
        self,
        model: str,
        task: dict[str, Any],
        *,
        base_url: str,
        headers: dict[str, str],
        api_key: str,
        ends_at: float,
    ) -> str:
        data = self._kie_json(
            "POST",
            f"{base_url}/api/v1/jobs/createTask",
            headers=headers,
            api_key=api_key,
            ends_at=ends_at,
            phase="create",
            json={"model": model, "input": task},
        )
        task_id = data.get("taskId")
        if not isinstance(task_id, str) or not task_id:
            raise malformed("no taskId in the response", 200)
        return task_id

    def wait_for_result(
        self, task_id: str, *, base_url: str, headers: dict[str, str], api_key: str, ends_at: float
    ) -> str:
        """Poll until the task ends: its result URL on success. A task that ended badly raises
        _TaskEnded (nothing left to resume); the deadline or a run of poll errors raise ProviderError
        (the task may still be running)."""
        record = self.poll(task_id, base_url=base_url, headers=headers, api_key=api_key, ends_at=ends_at)
        try:
            return self.interpret(record, api_key=api_key)
        except ProviderError as error:
            raise _TaskEnded(error) from None

    def poll(
        self, task_id: str, *, base_url: str, headers: dict[str, str], api_key: str, ends_at: float
    ) -> dict[str, Any]:
        """recordInfo until the task leaves the waiting states (→ its record) or the deadline passes
        (→ timeout). Transient poll errors are tolerated a few times in a row: they say nothing about
        the task, which keeps running."""
        null_records = poll_errors = 0
        state = "waiting"
        while base.CLOCK.now() < ends_at:
            try:
                record = self._kie_json(
                    "GET",
                    f"{base_url}/api/v1/jobs/recordInfo",
                    headers=headers,
                    api_key=api_key,
                    ends_at=ends_at,
                    phase="poll",
                    params={"taskId": task_id},
                )
                poll_errors = 0
            except ProviderError as error:
                poll_errors += 1
                if error.reason not in TRANSIENT_REASONS or poll_errors >= POLL_ERRORS_TOLERATED:
                    raise
                self._pause(max(settings.KIE_POLL_INTERVAL, error.retry_after or 0.0), ends_at)
                continue
            except _NullRecord:
                null_records += 1
                if null_records >= NULL_RECORD_POLLS:
                    # The task vanished: not our bad request (§8) — a fresh createTask may work.
                    vanished = ProviderError(Reason.SERVER, "task not found (recordInfo is null)", 422)
                    raise _TaskEnded(vanished) from None
                record = {"state": "waiting"}
            state = str(record.get("state") or "") or "waiting"
            if state not in _WAITING:
                return record
            self._pause(settings.KIE_POLL_INTERVAL, ends_at)
        raise ProviderError(Reason.TIMEOUT, f"still {state} when the poll deadline passed")

    def interpret(self, record: dict[str, Any], *, api_key: str) -> str:
        """A finished task's record: the result URL, or the classified failure."""
        state = str(record.get("state") or "")
        if state == "success":
            return result_url(record)
        if state == "fail":
            raise self.fail(task_failure(record), api_key=api_key)
        raise malformed(f"unknown task state {state[:20]}", 200)

    @staticmethod
    def _pause(seconds: float, ends_at: float) -> None:
        # Use the whole budget: the last sleep ends exactly at the deadline.
        base.CLOCK.sleep(min(seconds, max(0.0, ends_at - base.CLOCK.now())))

    def download(self, url: str, *, ends_at: float) -> bytes:
        """Fetch the finished image (no key: KIE result URLs are public, and expire after ~24 h). The
        URL comes from KIE's answer, not from the operator: the seam's address guard applies (no
        trusted hosts), and reading stops at settings.MAX_IMAGE_BYTES."""
        from bitethemenu import http

        try:
            response = http.request(
                "GET",
                url,
                timeout=self._timeout(ends_at),
                max_bytes=settings.MAX_IMAGE_BYTES,
                headers={"User-Agent": browser_like_user_agent()},
            )
        except http.OutboundError as exc:
            error = base.transport_error(exc)
            error.short = f"result download: {exc.short}"
            raise error from None
        if not response.ok:
            raise ProviderError(Reason.SERVER, f"result download failed (HTTP {response.status})")
        if not sniff_image_mime(response.content):
            raise malformed("the result is not an image", response.status)
        return response.content

    def classify(self, status: int, body: Any, text: str, headers: dict[str, str]) -> ProviderError:
        """A non-2xx HTTP answer: the body code wins when present; a bare 403 "error code: 1010" is
        Cloudflare rejecting the User-Agent (https://developers.cloudflare.com/support/troubleshooting/
        http-status-codes/cloudflare-1xxx-errors/error-1010/), reported as auth so an admin looks."""
        if isinstance(body, dict) and str(body.get("code", "")).isdigit() and str(body.get("code")) != "200":
            error = envelope_error(int(body["code"]), str(body.get("msg") or body.get("message") or ""))
        elif status == 403 and "1010" in text:
            return ProviderError(
                Reason.AUTH, "blocked by Cloudflare (error 1010): check the User-Agent", status
            )
        else:
            message = str(body.get("msg") or body.get("message") or "") if isinstance(body, dict) else ""
            error = classify_by_status(status, message)
        if error.reason == Reason.RATE_LIMIT:
            # Not queued: wait at least KIE's 10 s window, longer if the server's Retry-After says so.
            header = next((v for k, v in headers.items() if k.lower() == "retry-after"), None)
            error.retry_after = max(RATE_LIMIT_WAIT, parse_retry_after(header) or 0.0)
        return error


def _envelope_code(value: Any) -> int:
    """KIE's body `code` as an int, whether it came as a number or a string; 500 when unreadable."""
    try:
        return int(float(str(value).strip()))
    except (TypeError, ValueError, OverflowError):
        return 500


class _TaskEnded(Exception):
    """The task ended without a usable result: `error` says why; there is nothing to resume."""

    def __init__(self, error: ProviderError):
        super().__init__(error.short)
        self.error = error


class _NullRecord(Exception):
    """recordInfo answered 422 "recordInfo is null": the task is not visible (yet)."""
