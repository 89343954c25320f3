"""The signing helpers reproduce the vendors' published test vectors."""

from __future__ import annotations

from slack_sdk.signature import SignatureVerifier

from tests.support.signing import (
    pagerduty_signature,
    signed_slack_headers,
    slack_signature,
    slash_command_body,
)
from tests.support.vendor import vendor_bytes, vendor_json


def test_slack_signature_reproduces_slacks_documented_example() -> None:
    vector = vendor_json("slack_signing_vector.json")
    body = vendor_bytes(vector["request_body_file"])
    timestamp = vector["headers"]["X-Slack-Request-Timestamp"]

    signature = slack_signature(vector["signing_secret"], timestamp, body)

    assert signature == vector["expected_signature"]
    assert signature == vector["headers"]["X-Slack-Signature"]


def test_slack_signature_changes_when_the_body_or_timestamp_does() -> None:
    vector = vendor_json("slack_signing_vector.json")
    secret, body, expected = (
        vector["signing_secret"],
        vector["request_body"],
        vector["expected_signature"],
    )
    timestamp = int(vector["headers"]["X-Slack-Request-Timestamp"])

    assert slack_signature(secret, timestamp, body) == expected
    assert slack_signature(secret, timestamp + 1, body) != expected
    assert slack_signature(secret, timestamp, body + "x") != expected


def test_signed_slack_headers_pass_slack_sdks_own_verifier() -> None:
    body = slash_command_body(text="start")
    headers = signed_slack_headers("s3cret", body)

    verifier = SignatureVerifier("s3cret")
    assert verifier.is_valid_request(body, headers)
    assert not SignatureVerifier("other").is_valid_request(body, headers)


def test_pagerduty_signature_reproduces_go_pagerdutys_vector() -> None:
    vector = vendor_json("pagerduty_v3_signature_vector.json")
    body = vendor_bytes(vector["body_file"])

    signature = pagerduty_signature(vector["secret"], body)

    assert signature == vector["valid_signature"]
    assert signature != vector["mismatch_signature"]
