"""One frozen, typed Settings read from the environment and passed in explicitly.

Nothing here has a side effect: reading settings never creates a directory, opens a
connection or generates a key. Secrets come from the environment (or an env file that
`make run` writes outside the repository); a missing secret is an error, not a default.
"""
from __future__ import annotations

import base64
import os
from dataclasses import dataclass, field
from datetime import timedelta
from pathlib import Path
from typing import Mapping


class SettingsError(RuntimeError):
    pass


def _key(environ: Mapping[str, str], name: str) -> bytes:
    raw = environ.get(name)
    if not raw:
        raise SettingsError(f"{name} is not set; run `changtong keys` to make one (never commit it)")
    try:
        key = base64.urlsafe_b64decode(raw.encode())
    except ValueError as exc:  # binascii.Error is a ValueError
        raise SettingsError(f"{name} is not url-safe base64") from exc
    if len(key) != 32:
        raise SettingsError(f"{name} must decode to 32 bytes, got {len(key)}")
    return key


def _keyring(environ: Mapping[str, str], name: str) -> tuple[bytes, ...]:
    """The current key first, then retired keys (NAME_OLD, comma separated) for reading."""
    return (_key(environ, name),) + _old_keys(environ, name)


def _old_keys(environ: Mapping[str, str], name: str) -> tuple[bytes, ...]:
    """NAME_OLD: retired keys, comma separated (what `changtong keys rotate` moves data off)."""
    return tuple(_key({f"{name}_OLD": raw.strip()}, f"{name}_OLD")
                 for raw in (environ.get(f"{name}_OLD") or "").split(",") if raw.strip())


def _labelled(name: str, keys: tuple[bytes, ...]) -> tuple[tuple[str, bytes], ...]:
    """``keys`` (current first) named after the setting each comes from, for `changtong keys check`."""
    return tuple((name if i == 0 else f"{name}_OLD #{i}", k) for i, k in enumerate(keys))


def _pepper(environ: Mapping[str, str]):
    """CHANGTONG_QUERY_PEPPER, carrying CHANGTONG_QUERY_PEPPER_OLD (casework.privacy.codes.Pepper)."""
    from casework.privacy.codes import Pepper, pepper_id

    current, old = _key(environ, "CHANGTONG_QUERY_PEPPER"), _old_keys(environ, "CHANGTONG_QUERY_PEPPER")
    ids = [pepper_id(p) for p in (current, *old)]
    if len(set(ids)) != len(ids):
        raise SettingsError("CHANGTONG_QUERY_PEPPER_OLD repeats CHANGTONG_QUERY_PEPPER or itself (or two peppers "
                            "share an id, once in 16 million): make a new pepper with `changtong keys`")
    return Pepper(current, old)


@dataclass(frozen=True)
class Settings:
    database_url: str
    data_dir: Path
    secret_key: str
    pii_keys: tuple[bytes, ...] = field(repr=False)
    # the current pepper; read from the environment it is a casework.privacy.codes.Pepper, which
    # also carries CHANGTONG_QUERY_PEPPER_OLD: a code hashed under one of those is still accepted
    query_pepper: bytes = field(repr=False)
    # a report's (举报) identity: its own key ring (CHANGTONG_IDENTITY_KEY); empty means derived
    # from the PII keys under a distinct HKDF label (see identity_keyring)
    identity_keys: tuple[bytes, ...] = field(default=(), repr=False)
    # personal data and files of cases closed longer than this are erased (casework.retention)
    retention_days: int = 1095
    redis_url: str | None = None
    # uploads
    max_file_bytes: int = 10 * 1024 * 1024
    max_files: int = 5
    max_request_bytes: int = 100 * 1024 * 1024
    # how long a submission's receipt (number + code) can be shown again to a replayed submit
    receipt_minutes: int = 10
    # failed query-code lookups allowed per case number per window
    lookup_limit: str = "10 per 10 minutes"
    default_locale: str = "zh_CN"
    # the site's public address (scheme, host, optional path): every absolute URL the site
    # writes (Open311 documents, the respondent's address) starts with it, never with the
    # request's Host header, which a client chooses
    base_url: str = "http://localhost:5000"
    # who processes the personal data, and how to reach them (个人信息保护法 第十七条 (一)): the
    # privacy notice names them; /admin warns while they are unset
    operator_name: str = ""
    operator_contact: str = ""
    # notices: SMS through 阿里云短信 or 腾讯云短信 (sms_provider, casework.notify.providers), or a
    # JSON gateway when its URL is set, else files under data_dir
    sms_url: str | None = None
    sms_token: str | None = field(default=None, repr=False)
    sms_provider: str | None = None  # aliyun | tencent | http (the JSON gateway at sms_url)
    sms_access_key_id: str | None = None  # Aliyun AccessKey ID / Tencent SecretId
    sms_access_key_secret: str | None = field(default=None, repr=False)  # AccessKey Secret / SecretKey
    sms_region: str | None = None  # the SDK's default when unset (cn-hangzhou, ap-guangzhou)
    sms_endpoint: str | None = None  # the SDK's default when unset; https://host or http://host:port
    sms_sign_name: str = "畅通"  # the approved sign (签名), without 【】
    sms_sdk_app_id: str | None = None  # Tencent's SmsSdkAppId
    # notice template -> the provider's approved template code (SMS_123456 / 1234567)
    sms_templates: tuple[tuple[str, str], ...] = ()
    smtp_host: str | None = None
    smtp_port: int = 25
    smtp_sender: str = "changtong@localhost"
    smtp_username: str | None = None
    smtp_password: str | None = field(default=None, repr=False)
    smtp_starttls: bool = False
    # development only: notices without a gateway or mail server go to encrypted files under
    # data_dir/notices (`changtong notices` prints them); without this, the web and the worker
    # refuse to start unless both channels are configured (notice_problem)
    dev_notice_files: bool = False
    # how long a worker holds an outbox message it took before another run may take it again
    # (a worker killed between taking and recording); longer than a batch takes to send
    outbox_lease_seconds: float = 120.0
    # the beat's intervals, in seconds (workers.schedule: one row per periodic task)
    dispatch_seconds: float = 5.0  # the outbox
    sweep_seconds: float = 300.0  # deadlines: reminders, overdue, supervision
    search_seconds: float = 10.0  # the search index, from its watermark
    stats_seconds: float = 60.0  # the statistics rollups
    risk_seconds: float = 3600.0  # associations' risk grades
    retention_seconds: float = 24 * 3600.0  # erasing the personal data of long-closed cases
    staged_seconds: float = 3600.0  # deleting staged uploads that never became part of a case
    # the deadline sweep
    reminder_working_days: int = 2
    escalation_working_days: int = 5
    sweep_chunk: int = 1000  # cases per transaction in the sweep
    # search: Whoosh files under data_dir (one machine) or a PostgreSQL table (many nodes)
    search_backend: str = "whoosh"
    # statistics: public pages show a count below this as 不公开, not published (no small groups)
    public_min_count: int = 5
    # risk grade weights per factor (casework.stats.risk), points out of their sum
    risk_weights: tuple[tuple[str, float], ...] = (
        ("volume", 30.0), ("substantiated", 30.0), ("overdue", 20.0), ("repeat", 20.0))
    # operations: /metrics asks for this bearer token when it is set; a Celery worker serves
    # its task metrics on this port (on this address) when the port is set
    metrics_token: str | None = field(default=None, repr=False)
    worker_metrics_port: int | None = None
    worker_metrics_addr: str = "127.0.0.1"
    testing: bool = False

    @property
    def upload_dir(self) -> Path:
        return self.data_dir / "uploads"

    @property
    def notice_dir(self) -> Path:
        return self.data_dir / "notices"

    @property
    def identity_keyring(self) -> tuple[bytes, ...]:
        """Keys for a report's identity: CHANGTONG_IDENTITY_KEY (and _OLD) when set, then, for
        reading only, keys derived from each PII key (what an install without the setting
        wrote). Without the setting, the derived keys alone (the first one writes)."""
        return tuple(k for _name, k in self.keyrings()["identity"])

    def keyrings(self) -> dict[str, tuple[tuple[str, bytes], ...]]:
        """Each key ring, current key first, every key named after the setting it comes from:
        "pii" (CHANGTONG_PII_KEY and _OLD) and "identity" (CHANGTONG_IDENTITY_KEY and _OLD when
        set, then the keys derived from each PII key, for what an install without it wrote)."""
        from casework.privacy.crypto import derive_identity_key

        pii = _labelled("CHANGTONG_PII_KEY", self.pii_keys)
        identity: dict[bytes, str] = {}  # a key listed twice keeps its first name and place
        for name, k in _labelled("CHANGTONG_IDENTITY_KEY", self.identity_keys) + tuple(
                (f"derived from {name}", derive_identity_key(k)) for name, k in pii):
            identity.setdefault(k, name)
        return {"pii": pii, "identity": tuple((name, k) for k, name in identity.items())}

    @property
    def query_peppers(self) -> tuple[tuple[str, bytes], ...]:
        """The current pepper and CHANGTONG_QUERY_PEPPER_OLD's, named as keyrings() names keys."""
        from casework.privacy.codes import peppers

        return _labelled("CHANGTONG_QUERY_PEPPER", peppers(self.query_pepper))

    def notice_problem(self) -> str | None:
        """Why notices could not go out as they should, or None. Without an SMS channel
        (CHANGTONG_SMS_PROVIDER or CHANGTONG_SMS_URL) or CHANGTONG_SMTP_HOST notices would land in files (personal data on disk), which only a
        development machine (CHANGTONG_DEV_NOTICE_FILES=1, as `make run` sets) or the tests may
        do: the web and the worker refuse to start with this message instead."""
        missing = [name for name, value in (("CHANGTONG_SMS_URL", self.sms_url or self.sms_provider),
                                            ("CHANGTONG_SMTP_HOST", self.smtp_host)) if not value]
        if not missing or self.dev_notice_files or self.testing:
            return None
        return (f"{' and '.join(missing)} not set: notices (with phone numbers and query codes) have "
                "nowhere to go. Set them to your SMS gateway and mail server, or set "
                "CHANGTONG_DEV_NOTICE_FILES=1 on a development machine to write them to encrypted "
                "files under CHANGTONG_DATA_DIR/notices (read them with `changtong notices`).")

    def keep_files_private(self) -> None:
        """What a process writes under the data directory (the search index holds case text; the
        uploads, SQLite's file, the notice folder) is for the service's user and group only:
        umask 027, and the data directory made 0750 when this makes it (an existing one keeps the
        mode its owner gave it). The web, the worker and the command line call it at start."""
        os.umask(0o027)
        self.data_dir.mkdir(mode=0o750, parents=True, exist_ok=True)

    def require_notice_channels(self) -> None:
        """Refuse to start (SettingsError) where notice_problem says so."""
        problem = self.notice_problem()
        if problem:
            raise SettingsError(problem)

    @property
    def outbox_lease(self) -> timedelta:
        return timedelta(seconds=self.outbox_lease_seconds)

    @property
    def rate_limit_storage(self) -> str:
        """Where the rate limits count: Redis when set (every node shares it), else the
        database (casework.ratelimit): never process memory, which each gunicorn worker has
        its own of."""
        from casework.ratelimit import URI

        return self.redis_url or URI

    @classmethod
    def from_env(cls, environ: Mapping[str, str] | None = None, **overrides) -> "Settings":
        env = os.environ if environ is None else environ
        data_dir = Path(env.get("CHANGTONG_DATA_DIR", "var")).resolve()
        values = dict(
            database_url=env.get("DATABASE_URL") or f"sqlite:///{data_dir / 'changtong.db'}",
            data_dir=data_dir,
            secret_key=env.get("CHANGTONG_SECRET_KEY") or _missing("CHANGTONG_SECRET_KEY"),
            pii_keys=_keyring(env, "CHANGTONG_PII_KEY"),
            query_pepper=_pepper(env),
            redis_url=env.get("REDIS_URL") or None,
        )
        if env.get("CHANGTONG_IDENTITY_KEY"):
            values["identity_keys"] = _keyring(env, "CHANGTONG_IDENTITY_KEY")
        for key, name, conv in (
            ("sms_url", "CHANGTONG_SMS_URL", str), ("sms_token", "CHANGTONG_SMS_TOKEN", str),
            ("smtp_host", "CHANGTONG_SMTP_HOST", str), ("smtp_port", "CHANGTONG_SMTP_PORT", int),
            ("smtp_sender", "CHANGTONG_SMTP_SENDER", str), ("smtp_username", "CHANGTONG_SMTP_USERNAME", str),
            ("smtp_password", "CHANGTONG_SMTP_PASSWORD", str),
            ("smtp_starttls", "CHANGTONG_SMTP_STARTTLS", lambda v: v.lower() in ("1", "true", "yes")),
            ("dev_notice_files", "CHANGTONG_DEV_NOTICE_FILES", lambda v: v.lower() in ("1", "true", "yes")),
            ("reminder_working_days", "CHANGTONG_REMINDER_WORKING_DAYS", int),
            ("escalation_working_days", "CHANGTONG_ESCALATION_WORKING_DAYS", int),
            ("sweep_chunk", "CHANGTONG_SWEEP_CHUNK", int),
            ("search_backend", "CHANGTONG_SEARCH_BACKEND", str),
            ("public_min_count", "CHANGTONG_PUBLIC_MIN_COUNT", int),
            ("risk_weights", "CHANGTONG_RISK_WEIGHTS", parse_weights),
            ("retention_days", "CHANGTONG_RETENTION_DAYS", _positive_int),
            ("base_url", "CHANGTONG_BASE_URL", parse_base_url),
            ("operator_name", "CHANGTONG_OPERATOR_NAME", str.strip),
            ("operator_contact", "CHANGTONG_OPERATOR_CONTACT", str.strip),
            ("metrics_token", "CHANGTONG_METRICS_TOKEN", str),
            ("worker_metrics_port", "CHANGTONG_WORKER_METRICS_PORT", int),
            ("worker_metrics_addr", "CHANGTONG_WORKER_METRICS_ADDR", str),
            ("outbox_lease_seconds", "CHANGTONG_OUTBOX_LEASE_SECONDS", _seconds),
            ("dispatch_seconds", "CHANGTONG_DISPATCH_SECONDS", _seconds),
            ("sweep_seconds", "CHANGTONG_SWEEP_SECONDS", _seconds),
            ("search_seconds", "CHANGTONG_SEARCH_SECONDS", _seconds),
            ("stats_seconds", "CHANGTONG_STATS_SECONDS", _seconds),
            ("risk_seconds", "CHANGTONG_RISK_SECONDS", _seconds),
            ("retention_seconds", "CHANGTONG_RETENTION_SECONDS", _seconds),
            ("staged_seconds", "CHANGTONG_STAGED_SECONDS", _seconds),
        ):
            if env.get(name):
                values[key] = conv(env[name])
        for key, name, conv in (
            ("sms_provider", "CHANGTONG_SMS_PROVIDER", lambda v: v.strip().lower()),
            ("sms_access_key_id", "CHANGTONG_SMS_ACCESS_KEY_ID", str),
            ("sms_access_key_secret", "CHANGTONG_SMS_ACCESS_KEY_SECRET", str),
            ("sms_region", "CHANGTONG_SMS_REGION", str), ("sms_endpoint", "CHANGTONG_SMS_ENDPOINT", str),
            ("sms_sign_name", "CHANGTONG_SMS_SIGN_NAME", str), ("sms_sdk_app_id", "CHANGTONG_SMS_SDK_APP_ID", str),
            ("sms_templates", "CHANGTONG_SMS_TEMPLATES", parse_sms_templates),
        ):
            if env.get(name):
                values[key] = conv(env[name])
        if "CHANGTONG_MAX_FILE_MB" in env:
            values["max_file_bytes"] = int(env["CHANGTONG_MAX_FILE_MB"]) * 1024 * 1024
        values.update(overrides)
        settings = cls(**values)
        settings.check_sms()
        return settings

    def check_sms(self) -> None:
        """The SMS provider's settings, complete, or SettingsError at start (never at the first
        notice): the keys, the sign, Tencent's application and a template code for every
        notice a phone receives (casework.notify.providers)."""
        from casework.notify.providers import PROVIDERS, sms_templates

        p = self.sms_provider
        if p is None:
            return
        if p not in PROVIDERS:
            raise SettingsError(f"CHANGTONG_SMS_PROVIDER: one of {', '.join(PROVIDERS)}, not {p!r}")
        if p == "http":
            if not self.sms_url:
                raise SettingsError("CHANGTONG_SMS_PROVIDER=http needs CHANGTONG_SMS_URL (the JSON gateway)")
            return
        needed = [("CHANGTONG_SMS_ACCESS_KEY_ID", self.sms_access_key_id),
                  ("CHANGTONG_SMS_ACCESS_KEY_SECRET", self.sms_access_key_secret),
                  ("CHANGTONG_SMS_SIGN_NAME", self.sms_sign_name)]
        if p == "tencent":
            needed.append(("CHANGTONG_SMS_SDK_APP_ID", self.sms_sdk_app_id))
        unset = [name for name, value in needed if not value]
        if unset:
            raise SettingsError(f"CHANGTONG_SMS_PROVIDER={p} needs {', '.join(unset)}")
        lacking = [t for t in sms_templates() if t not in dict(self.sms_templates)]
        if lacking:
            raise SettingsError(f"CHANGTONG_SMS_TEMPLATES: no template code for {', '.join(lacking)} "
                                "(see docs/operations.md, SMS providers)")


def parse_weights(raw: str) -> tuple[tuple[str, float], ...]:
    """``volume=30,substantiated=30,overdue=20,repeat=20`` -> pairs; unknown factors refused."""
    from casework.stats.risk import FACTORS

    pairs = []
    for part in raw.split(","):
        name, _, value = part.partition("=")
        name = name.strip()
        if name not in FACTORS:
            raise SettingsError(f"CHANGTONG_RISK_WEIGHTS: unknown factor {name!r} (one of {', '.join(FACTORS)})")
        try:
            weight = float(value)
        except ValueError:
            raise SettingsError(f"CHANGTONG_RISK_WEIGHTS: {name} needs a number, not {value!r}") from None
        if weight < 0:
            raise SettingsError(f"CHANGTONG_RISK_WEIGHTS: {name} cannot be negative")
        pairs.append((name, weight))
    return tuple(pairs)


def parse_sms_templates(raw: str) -> tuple[tuple[str, str], ...]:
    """``case_receipt=SMS_123,case_update=SMS_456`` -> pairs, an entry optionally listing its
    template's variables (``respondent_invite=SMS_1:case_number,respondent_code,body``); a notice
    template that does not exist, a code with spaces or quotes, or a variable the notice does not
    give is refused (casework.notify.providers.parse_templates)."""
    from casework.notify.providers import TemplatesError, parse_templates

    try:
        return parse_templates(raw)
    except TemplatesError as exc:
        raise SettingsError(str(exc)) from None


def parse_base_url(raw: str) -> str:
    """``https://changtong.example.org`` (or with a path the site is served under), without
    a trailing slash; no user, query or fragment."""
    from urllib.parse import urlsplit

    value = raw.strip().rstrip("/")
    try:
        parts = urlsplit(value)
        parts.port  # noqa: B018 (raises on a port that is not a number)
    except ValueError:
        parts = None
    if (parts is None or parts.scheme not in ("http", "https") or not parts.hostname or parts.username
            or parts.password or parts.query or parts.fragment or "\\" in value
            or any(ch.isspace() or ord(ch) < 32 for ch in value)):
        raise SettingsError(f"CHANGTONG_BASE_URL: an http(s) address such as https://changtong.example.org, not {raw!r}")
    return value


def _positive_int(raw: str) -> int:
    value = int(raw)
    if value < 1:
        raise SettingsError(f"a number of days of at least 1, not {raw!r}")
    return value


def _seconds(raw: str) -> float:
    value = float(raw)
    if not 0 < value < float("inf"):  # also refuses nan
        raise SettingsError(f"a number of seconds above 0, not {raw!r}")
    return value


def _missing(name: str):
    raise SettingsError(f"{name} is not set; run `changtong keys` to make one (never commit it)")


def new_key() -> str:
    return base64.urlsafe_b64encode(os.urandom(32)).decode()
