"""The translation interface, the `none` backend, AWS Translate at the request/response level
(botocore's Stubber: no network here) and argostranslate when it is installed."""

from __future__ import annotations

import boto3
import pytest
from botocore.stub import Stubber

from connectors.translate import ArgosTranslator, AwsTranslator, open_translator
from flows.operators.denoise import denoise
from core.rules import DenoiseRules
from flows.operators.parse import parse_message
from flows.operators.translate import TranslateBatch
from core.records import NoTranslator, Translation
from core.records import Rejected
from core.settings import ConfigError, Settings
from tests.helpers import raw

HINDI = "भुगतान विफल हो गया लेकिन पैसे कट गए"
SPANISH = "El pago falló pero me cobraron el dinero"
ENGLISH = "payment failed but money was debited"


def kept(text: str, n: int = 1):
    out = denoise(parse_message(raw({"id": f"t{n}", "app_id": "paynest", "text": text}, n), {"paynest"}), DenoiseRules())
    assert not isinstance(out, Rejected)
    return out


def stubbed():
    client = boto3.client("translate", region_name="us-east-1", aws_access_key_id="x", aws_secret_access_key="x")
    return client, Stubber(client)


def test_none_backend_keeps_non_english_untranslated_with_its_language():
    out = TranslateBatch(NoTranslator())([kept(ENGLISH, 1), kept(HINDI, 2), kept("mast app hai bhai, payment turant", 3)])
    assert [(t.status, t.lang) for _, _, t in out] == [("not_needed", "en"), ("untranslated", "hi"), ("untranslated", "hi-Latn")]
    assert out[1][2].text_en == HINDI and "none" in out[1][2].detail


def test_aws_backend_request_and_response():
    client, stub = stubbed()
    stub.add_response(
        "translate_text",
        {"TranslatedText": "The payment failed but they charged me the money", "SourceLanguageCode": "es",
         "TargetLanguageCode": "en"},
        {"Text": SPANISH, "SourceLanguageCode": "es", "TargetLanguageCode": "en"},
    )
    with stub:
        step = TranslateBatch(AwsTranslator(client))
        # the same text twice in a batch and again in the next batch: one request (batched, then cached)
        first = step([kept(SPANISH, 1), kept(SPANISH, 2)])
        again = step([kept(SPANISH, 3)])
    stub.assert_no_pending_responses()
    assert [t.status for _, _, t in first + again] == ["translated"] * 3
    assert first[0][2].text_en.startswith("The payment failed") and "cached" in again[0][2].detail


def test_aws_failure_keeps_the_original_and_flags_it():
    client, stub = stubbed()
    stub.add_client_error("translate_text", service_error_code="ThrottlingException", service_message="slow down",
                          expected_params={"Text": HINDI, "SourceLanguageCode": "hi", "TargetLanguageCode": "en"})
    stub.add_response("translate_text", {"TranslatedText": "the payment failed", "SourceLanguageCode": "es",
                                         "TargetLanguageCode": "en"})
    with stub:
        out = TranslateBatch(AwsTranslator(client))([kept(HINDI, 1), kept(SPANISH, 2)])
    hindi, spanish = out[0][2], out[1][2]
    assert (hindi.status, hindi.text_en) == ("failed", HINDI) and "ThrottlingException" in hindi.detail
    assert spanish.status == "translated"


class FakeBackend(NoTranslator):
    """Supports every language; `translate` is the given function."""

    def __init__(self, name, translate):
        self.name = name
        self.translate = translate

    def supports(self, lang):
        return True


def test_a_backend_that_raises_loses_nothing():
    def broken(texts, lang):
        raise ConnectionError("service down")

    out = TranslateBatch(FakeBackend("broken", broken))([kept(HINDI, 1), kept(ENGLISH, 2)])
    assert [(t.status, t.text_en) for _, _, t in out] == [("failed", HINDI), ("not_needed", ENGLISH)]
    assert "service down" in out[0][2].detail


def test_cache_is_bounded():
    def echo(texts, lang):
        return [Translation("translated", t.upper(), lang) for t in texts]

    step = TranslateBatch(FakeBackend("echo", echo), cache_size=2)
    step([kept(f"{SPANISH} {word}", i) for i, word in enumerate(["uno", "dos", "tres", "cuatro"])])
    assert len(step._cache) == 2


def test_open_translator_follows_the_setting():
    assert open_translator(Settings.from_env({})).name == "none"
    assert open_translator(Settings.from_env({"SIFT_TRANSLATE": "aws"})).name == "aws"
    try:
        import argostranslate  # noqa: F401
    except ImportError:
        with pytest.raises(ConfigError, match="argostranslate"):
            open_translator(Settings.from_env({"SIFT_TRANSLATE": "argos"}))


def test_argos_backend_when_installed():
    pytest.importorskip("argostranslate.translate")
    argos = ArgosTranslator()
    if not argos.supports("es"):
        pytest.skip("no argostranslate es->en package installed")
    out = TranslateBatch(argos)([kept(SPANISH)])
    assert out[0][2].status == "translated" and out[0][2].text_en != SPANISH
