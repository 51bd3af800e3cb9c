"""Verifies deliveries krawlr made with the third-party `standardwebhooks` package (PyPI).

Input (JSON file, argv[1]): [{"secret": "whsec_…", "headers": {…}, "body": "…"}, …], as a local
receiver recorded them. For each delivery: it verifies with the right secret; a wrong secret, a
tampered body and an old timestamp (re-signed by the library itself, so only the time is
wrong) are each rejected. Prints one JSON line of counts; exits non-zero on any surprise.
"""

import json
import sys
from datetime import datetime, timedelta, timezone

from standardwebhooks.webhooks import Webhook, WebhookVerificationError


def rejected(secret, body, headers):
    try:
        Webhook(secret).verify(body, headers)
    except WebhookVerificationError:
        return True
    return False


def main():
    deliveries = json.load(open(sys.argv[1]))
    wrong = "whsec_" + "QUFBQUFBQUFBQUFBQUFBQUFBQUFBQUFBQUFBQUFBQUE="
    counts = {"verified": 0, "wrong_secret_rejected": 0, "tampered_rejected": 0, "old_rejected": 0}
    failures = []
    for d in deliveries:
        secret, body, headers = d["secret"], d["body"], d["headers"]
        try:
            payload = Webhook(secret).verify(body, headers)
            assert payload["data"]["job_id"], "payload without a job id"
            counts["verified"] += 1
        except Exception as e:  # noqa: BLE001 - every failure is reported
            failures.append(f"{headers.get('webhook-id')}: valid delivery rejected: {e!r}")
        if rejected(wrong, body, headers):
            counts["wrong_secret_rejected"] += 1
        else:
            failures.append(f"{headers.get('webhook-id')}: accepted with a wrong secret")
        tampered = body.replace('"status":"', '"status":"x', 1) if '"status":"' in body else body + " "
        if rejected(secret, tampered, headers):
            counts["tampered_rejected"] += 1
        else:
            failures.append(f"{headers.get('webhook-id')}: accepted a tampered body")
        old = datetime.now(timezone.utc) - timedelta(minutes=10)
        old_headers = dict(headers)
        old_headers["webhook-timestamp"] = str(int(old.timestamp()))
        old_headers["webhook-signature"] = Webhook(secret).sign(headers["webhook-id"], old, body)
        if rejected(secret, body, old_headers):
            counts["old_rejected"] += 1
        else:
            failures.append(f"{headers.get('webhook-id')}: accepted a 10-minute-old timestamp")
    print(json.dumps(counts))
    for f in failures:
        print(f, file=sys.stderr)
    sys.exit(1 if failures or not deliveries else 0)


if __name__ == "__main__":
    main()
