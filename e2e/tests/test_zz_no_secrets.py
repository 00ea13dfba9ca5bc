"""Runs last (files run in name order): no URL token, API token or upstream
token minted or used during the whole end-to-end run appears in any process
log, TfcMcpServer status or Event."""

from conftest import MINTED_TOKENS
from stack import SIM_TOKEN


def test_no_token_in_any_log_status_or_event(stack):
    """Runs last: no URL token or upstream token appears in any process log,
    status or Event of the whole run."""
    assert MINTED_TOKENS, "no token was minted during the run"
    secrets = [*MINTED_TOKENS, SIM_TOKEN]
    for name, text in stack.logs().items():
        for secret in secrets:
            assert secret not in text, f"a token leaked into {name}"
    everything = stack.kubectl("get", "tfcmcpservers,events", "-A", "-o", "json").stdout
    for secret in secrets:
        assert secret not in everything, "a token leaked into a status or an Event"
