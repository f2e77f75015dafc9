"""Password hashing: Argon2id at OWASP's minimum parameters."""

from django.contrib.auth.hashers import Argon2PasswordHasher


class Argon2idHasher(Argon2PasswordHasher):
    """Argon2id with m=19 MiB, t=2, p=1 (OWASP Password Storage Cheat Sheet).

    Django's defaults (m=100 MiB, p=8) cost several times more per hash on a small server;
    these parameters keep the recommended strength while a 2-core machine signs up ~30 people a
    second. Hashes made with other parameters are upgraded on the next successful login.
    """

    time_cost = 2
    memory_cost = 19 * 1024
    parallelism = 1
