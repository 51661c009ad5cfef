"""Forms for the venue pages: they parse and give calm field errors; services decide the rest."""

from __future__ import annotations

from typing import Any

from django import forms
from django.conf import settings
from django.core.files.uploadedfile import UploadedFile

from bitethemenu.errors import FriendlyError
from composer.models import Asset
from composer.services import PROMPT_MAX_LENGTH
from composer.uploads import TOO_LARGE_MESSAGE, decode_image
from resilience import pricing
from resilience.defaults import DEMO_LABEL
from resilience.registry import ProviderSpec, available_providers
from resilience.types import KIND_LABELS, SERVICE_KINDS

STYLE_PRESETS = ["Natural light", "Rustic table", "Bright & airy", "Moody evening", "Flat lay"]
TONES = ["Warm", "Playful", "Elegant", "Short & punchy", "Informative"]

EMPTY_PROMPT = "Describe what you'd like first — a sentence is plenty."
EMPTY_CAPTION = "Tell us what the post is about — a sentence is plenty."
EMPTY_INSTRUCTION = "Say what you'd like to change — a sentence is plenty."


def _prompt_field(label: str, empty: str, placeholder: str) -> forms.CharField:
    return forms.CharField(
        label=label,
        max_length=PROMPT_MAX_LENGTH,
        strip=True,
        error_messages={
            "required": empty,
            "max_length": f"Please keep it under {PROMPT_MAX_LENGTH:,} characters.",
        },
        widget=forms.Textarea(attrs={"rows": 3, "placeholder": placeholder}),
    )


def _decoded_upload(upload: UploadedFile[bytes] | None, *, allow_pdf: bool) -> tuple[bytes, str] | None:
    """An uploaded file → (bytes, mime), or a calm ValidationError. Size first, then type."""
    if upload is None:
        return None
    if upload.size is not None and upload.size > settings.MAX_IMAGE_BYTES:
        raise forms.ValidationError(TOO_LARGE_MESSAGE, code="payload_too_large")  # don't read it at all
    try:
        return decode_image(upload.read(), allow_pdf=allow_pdf)
    except FriendlyError as error:
        raise forms.ValidationError(error.user_message, code=error.code) from None


class ImageForm(forms.Form):
    prompt = _prompt_field(
        "What should the photo show?", EMPTY_PROMPT, "Fresh tagliatelle with wild mushrooms, steam rising"
    )
    style = forms.ChoiceField(
        label="Style",
        required=False,
        initial="",
        widget=forms.RadioSelect,
        choices=[("", "No preset")] + [(s, s) for s in STYLE_PRESETS],
        error_messages={"invalid_choice": "Pick one of the styles shown."},
    )
    reference = forms.FileField(
        label="Your own photo (optional)",
        required=False,
        widget=forms.ClearableFileInput(attrs={"accept": "image/png,image/jpeg,image/webp"}),
    )

    def clean_reference(self) -> tuple[bytes, str] | None:
        return _decoded_upload(self.cleaned_data.get("reference"), allow_pdf=False)


class CaptionForm(forms.Form):
    prompt = _prompt_field(
        "What is the post about?",
        EMPTY_CAPTION,
        "Our new autumn menu launches Friday — pumpkin ravioli is back",
    )
    tone = forms.ChoiceField(
        label="Tone", required=False, choices=[("", "Any tone")] + [(t, t) for t in TONES]
    )

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        # It shares the Composer page with ImageForm, which also has a `prompt`: ids must differ.
        kwargs.setdefault("auto_id", "id_caption_%s")
        super().__init__(*args, **kwargs)


class EditForm(forms.Form):
    instruction = _prompt_field(
        "What should change?", EMPTY_INSTRUCTION, "Warmer light, and add a sprig of basil"
    )


class MenuImportForm(forms.Form):
    document = forms.FileField(
        label="Menu photo or PDF",
        error_messages={"required": "Choose a photo or PDF of your menu first."},
        widget=forms.ClearableFileInput(attrs={"accept": "image/png,image/jpeg,image/webp,application/pdf"}),
    )

    def clean_document(self) -> tuple[bytes, str] | None:
        return _decoded_upload(self.cleaned_data.get("document"), allow_pdf=True)


class LibraryFilterForm(forms.Form):
    q = forms.CharField(
        label="Search",
        required=False,
        max_length=200,
        strip=True,
        widget=forms.TextInput(attrs={"type": "search", "placeholder": "e.g. cosy pasta dinner"}),
    )
    kind = forms.ChoiceField(label="Show", required=False, choices=[("", "Everything")] + Asset.Kind.choices)
    page = forms.IntegerField(required=False, min_value=1, max_value=10_000)


PLATFORM_DEFAULT = ""


def _price(kind: str, credits: int) -> str:
    free = pricing.free_calls_per_day(kind)
    label = f"{credits} credit{'s' if credits != 1 else ''}"
    return f"{label} ({free} a day free)" if free else label


def _model_choices(kind: str, current: tuple[str, str] | None) -> list[tuple[str, Any]]:
    """ "Platform default" plus one group per provider offering `kind` (value "provider:model"),
    each with its price; the approved models only (resilience.pricing). A current primary no
    longer approved is kept so it shows as selected."""
    choices: list[tuple[str, Any]] = [
        (PLATFORM_DEFAULT, f"Platform default — {_price(kind, pricing.default_credits(kind))}")
    ]
    approved = pricing.approved_models(kind)
    for spec in available_providers():
        models = list(approved.get(spec.id, []))
        if current and current[0] == spec.id and current[1] not in models:
            models.append(current[1])
        label = DEMO_LABEL if spec.id == "simulated" else spec.label  # owners see what it is: the demo
        if models:
            choices.append(
                (
                    label,
                    [
                        (
                            f"{spec.id}:{m}",
                            f"{_model_label(spec, label, m)} — {_price(kind, pricing.model_credits(kind, m))}",
                        )
                        for m in models
                    ],
                )
            )
    return choices


def _model_label(spec: ProviderSpec, label: str, model: str) -> str:
    # The simulated failure models (listed in DEBUG and tests only) say what they do.
    return f"{label} · {model}" + (" (fails on purpose)" if model in spec.debug_only_models else "")


class AISettingsForm(forms.Form):
    """One select per service kind. Cleaned values: (provider, model) or None for the default."""

    def __init__(self, *args: Any, current: dict[str, tuple[str, str] | None], **kwargs: Any):
        super().__init__(*args, **kwargs)
        for kind in SERVICE_KINDS:
            value = current.get(kind)
            self.fields[kind] = forms.ChoiceField(
                label=KIND_LABELS[kind],
                required=False,
                choices=_model_choices(kind, value),
                initial=f"{value[0]}:{value[1]}" if value else PLATFORM_DEFAULT,
                error_messages={"invalid_choice": "Pick a model from the list."},
            )

    def choices_by_kind(self) -> dict[str, tuple[str, str] | None]:
        picked: dict[str, tuple[str, str] | None] = {}
        for kind in SERVICE_KINDS:
            provider, _, model = (self.cleaned_data.get(kind) or "").partition(":")
            picked[kind] = (provider, model) if provider and model else None
        return picked
