"""Translation backends: AWS Translate (production) and argostranslate (offline, when installed).

Both implement `flows.operators.translate.Translator`: one `Translation` per
text, in order; a text the service refuses becomes a `failed` Translation that
keeps the original, never an exception. The live client is created on first
use, never at import. `open_translator(settings)` picks the configured backend.
"""

from __future__ import annotations

import logging
from collections.abc import Sequence

from core.records import NoTranslator, Translation, Translator, failed, untranslated
from core.settings import ConfigError, Settings

log = logging.getLogger(__name__)

AWS_MAX_BYTES = 10_000  # TranslateText limit per request
# AWS Translate source codes (a subset that covers the streams we see); Hinglish goes to `auto` (Comprehend decides).
AWS_LANGS = frozenset(
    """af am ar az bg bn bs ca cs cy da de el es et fa fi fr ga gu ha he hi hr ht hu hy id is it ja ka kk kn ko lt
    lv mk ml mn mr ms mt nl no pa pl ps pt ro ru si sk sl so sq sr sv sw ta te th tl tr uk ur uz vi zh""".split()
)
AWS_ALIASES = {"hi-Latn": "auto", "zh-Hant": "zh-TW", "or": "auto"}


def aws_translate_client():
    """A boto3 Translate client; boto3 finds credentials, region and `AWS_ENDPOINT_URL_TRANSLATE` itself."""
    import boto3
    from botocore.config import Config

    session = boto3.session.Session()
    return session.client(
        "translate",
        region_name=session.region_name or "us-east-1",
        config=Config(retries={"max_attempts": 4, "mode": "standard"}, connect_timeout=5, read_timeout=20),
    )


class AwsTranslator:
    """AWS Translate's `TranslateText`, one request per distinct text (the step batches and caches).

    A throttled or refused text becomes `failed` with the service's error code; botocore's bounded
    standard retries run first.
    """

    name = "aws"

    def __init__(self, client=None, target: str = "en"):
        self._client = client
        self.target = target

    @property
    def client(self):
        if self._client is None:
            self._client = aws_translate_client()
        return self._client

    def supports(self, lang: str) -> bool:
        return lang in AWS_LANGS or lang in AWS_ALIASES

    def translate(self, texts: Sequence[str], lang: str) -> list[Translation]:
        from botocore.exceptions import BotoCoreError, ClientError

        source = AWS_ALIASES.get(lang, lang)
        out = []
        for text in texts:
            if len(text.encode("utf-8")) > AWS_MAX_BYTES:
                out.append(failed(text, lang, f"aws: text is over {AWS_MAX_BYTES:,} bytes"))
                continue
            try:
                response = self.client.translate_text(
                    Text=text, SourceLanguageCode=source, TargetLanguageCode=self.target
                )
            except ClientError as e:
                code = e.response.get("Error", {}).get("Code", "ClientError")
                out.append(failed(text, lang, f"aws: {code}: {e.response.get('Error', {}).get('Message', '')}"))
                continue
            except BotoCoreError as e:
                out.append(failed(text, lang, f"aws: {type(e).__name__}: {e}"))
                continue
            detail = "aws" if source != "auto" else f"aws (detected {response.get('SourceLanguageCode', '?')})"
            out.append(Translation("translated", response["TranslatedText"], lang, detail))
        return out


class ArgosTranslator:
    """argostranslate with whatever language packages the user installed (offline)."""

    name = "argos"

    def __init__(self, target: str = "en"):
        self.target = target
        self._models: dict[str, object] | None = None

    def _load(self) -> dict[str, object]:
        if self._models is None:
            import argostranslate.translate as argos

            languages = {lang.code: lang for lang in argos.get_installed_languages()}
            target = languages.get(self.target)
            self._models = {}
            if target is not None:
                for code, lang in languages.items():
                    model = lang.get_translation(target) if code != self.target else None
                    if model is not None:
                        self._models[code] = model
            log.info("argostranslate: installed %s -> %s", ", ".join(sorted(self._models)) or "nothing", self.target)
        return self._models

    def supports(self, lang: str) -> bool:
        return lang in self._load()

    def translate(self, texts: Sequence[str], lang: str) -> list[Translation]:
        model = self._load().get(lang)
        if model is None:
            return [untranslated(t, lang, f"argos has no {lang}->{self.target} package") for t in texts]
        out = []
        for text in texts:
            try:
                out.append(Translation("translated", model.translate(text), lang, "argos"))
            except Exception as e:  # a model error on one text must not lose the others
                out.append(failed(text, lang, f"argos: {type(e).__name__}: {e}"))
        return out


def open_translator(settings: Settings) -> Translator:
    """The configured backend (`SIFT_TRANSLATE`); the client is created on first use."""
    if settings.translate == "aws":
        return AwsTranslator()
    if settings.translate == "argos":
        try:
            import argostranslate.translate  # noqa: F401
        except ImportError as e:
            raise ConfigError("SIFT_TRANSLATE=argos needs the argostranslate package and its language packages") from e
        return ArgosTranslator()
    return NoTranslator()
