"""PagerDuty v3 webhook signatures, checked against go-pagerduty's ``webhookv3`` vector."""

from __future__ import annotations

import json

from bot.webhooks.signature import sign, signature_matches, split_secrets
from tests.support.vendor import vendor_bytes, vendor_json

VECTOR = vendor_json("pagerduty_v3_signature_vector.json")
BODY = vendor_bytes(VECTOR["body_file"])
SECRET = VECTOR["secret"]


def test_the_go_pagerduty_vector_verifies_with_the_secret_as_raw_bytes() -> None:
    assert sign(SECRET, BODY) == VECTOR["valid_signature"]
    assert signature_matches(BODY, VECTOR["valid_signature"], [SECRET])


def test_the_vectors_mismatching_signature_fails() -> None:
    assert not signature_matches(BODY, VECTOR["mismatch_signature"], [SECRET])


def test_during_rotation_any_of_several_signatures_passes() -> None:
    header = f"{VECTOR['mismatch_signature']}, {VECTOR['valid_signature']}"

    assert signature_matches(BODY, header, [SECRET])


def test_any_of_several_configured_secrets_passes() -> None:
    secrets = split_secrets(f"old-secret , {SECRET}")

    assert secrets == ("old-secret", SECRET)
    assert signature_matches(BODY, VECTOR["valid_signature"], secrets)


def test_a_reserialized_body_fails_because_the_raw_bytes_are_signed() -> None:
    reserialized = json.dumps(json.loads(BODY), indent=2).encode()

    assert not signature_matches(reserialized, VECTOR["valid_signature"], [SECRET])


def test_missing_header_unknown_scheme_or_no_secret_fails() -> None:
    digest = VECTOR["valid_signature"].removeprefix("v1=")

    assert not signature_matches(BODY, None, [SECRET])
    assert not signature_matches(BODY, "", [SECRET])
    assert not signature_matches(BODY, f"v0={digest}", [SECRET])
    assert not signature_matches(BODY, digest, [SECRET])
    assert not signature_matches(BODY, VECTOR["valid_signature"], [])
