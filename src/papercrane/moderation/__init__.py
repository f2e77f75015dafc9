"""Trust and safety: community rules, reports, automated signals, decisions with statements
of reasons, appeals and the audit log."""
