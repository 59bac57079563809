"""Crisis escalation to a care team: a durable outbox and a delivery worker.

When a deployment configures a care team (``ESCALATION_WEBHOOK_URL`` +
``ESCALATION_WEBHOOK_SECRET`` and/or ``ONCALL_SMS_NUMBER``), ``action_record_crisis``
writes one outbox row per destination in the same transaction as the crisis record
(:mod:`trd.escalation.enqueue`). ``python -m trd.escalation.worker`` delivers
them: a signed webhook and/or a short SMS to the on-call phone, retried with backoff
until delivered, every attempt audited.

Modules: ``config`` (settings), ``payload`` (what is sent), ``signing`` (the HMAC),
``backoff`` (the retry schedule), ``notifiers`` (webhook, SMS, fakes), ``outbox``
(claiming rows safely), ``enqueue`` (the action server's side), ``worker``.
Nothing here connects at import time.
"""
