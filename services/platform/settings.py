"""The one settings object, read from the environment (prefix ``SWITCHBOARD_``) or ``.env``."""

from __future__ import annotations

from datetime import date
from pathlib import Path
from typing import Literal
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from pydantic import Field, SecretStr, field_validator
from pydantic_settings import BaseSettings, SettingsConfigDict


class Settings(BaseSettings):
    """Everything an operator can set. Defaults run embedded with nothing installed."""

    model_config = SettingsConfigDict(
        env_prefix="SWITCHBOARD_", env_file=".env", extra="ignore", frozen=True
    )

    database_url: str = "sqlite:///./var/switchboard.db"
    data_dir: Path = Path("./var")
    public_url: str = "http://127.0.0.1:8000"

    twilio_account_sid: str | None = None
    twilio_auth_token: SecretStr | None = None
    twilio_from_number: str | None = None
    twilio_messaging_service_sid: str | None = None
    twilio_api_base_url: str = "https://api.twilio.com"
    sms_gateway: Literal["console", "twilio"] | None = None

    queue_url: str | None = None
    # With the embedded SQLite queue, `serve` runs the job worker in-process.
    embedded_worker: bool = True
    # A job a worker took and did not finish (the worker died) runs again within this long.
    job_lease_seconds: float = Field(default=60.0, gt=0, le=300)
    blob_url: str = "file://./var/blobs"
    s3_endpoint_url: str | None = None
    master_key: SecretStr | None = None

    default_region: str = "US"
    timezone: str = "America/New_York"

    city_name: str = "the City"
    # When call takers answer: days and local times, e.g. "mon-fri 08:00-18:00; sat 09:00-13:00".
    business_hours: str = "mon-fri 08:00-18:00"
    dial_timeout_seconds: int = Field(default=25, ge=5, le=120)
    voicemail_max_seconds: int = Field(default=120, ge=10, le=600)
    # After an agent's call ends they are in wrap-up (offered no calls) until they wrap the
    # contact up, or at most this long.
    wrap_up_limit_seconds: int = Field(default=120, ge=0, le=3600)
    # A department's call is offered to at most this many available agents, each ringing
    # for the dial timeout, before the department's own destination rings.
    agent_offers_per_call: int = Field(default=2, ge=0, le=10)
    # Callbacks show this number as caller ID (default: TWILIO_FROM_NUMBER, the 311 number).
    callback_caller_id: str | None = None
    # A JSON file with the IVR menu used to seed the extension directory on first start.
    ivr_menu_file: Path | None = None

    # Recordings: our encrypted copy is verified before Twilio's is deleted (if this is on).
    delete_twilio_recordings: bool = True
    recording_max_attempts: int = Field(default=8, ge=1, le=50)
    twilio_timeout_seconds: float = Field(default=20.0, gt=0, le=300)
    # The ffmpeg binary; by default the static build that the imageio-ffmpeg wheel ships.
    ffmpeg_path: str | None = None

    # Texts: never sent in quiet hours (city time); reminders this long before a visit.
    sms_quiet_hours: str = "21:00-08:00"
    # When each department makes visits (city time), as {"Sanitation": "mon-fri 08:00-17:00"}
    # (JSON); a booking outside them is refused. A department not named here books at any
    # time, unless VISIT_HOURS gives the hours of every department not named.
    department_visit_hours: dict[str, str] = Field(default_factory=dict)
    visit_hours: str | None = None
    sms_reminder_lead_hours: int = Field(default=24, ge=1, le=24 * 14)
    sms_rate_per_second: int = Field(default=1, ge=1, le=1000)
    sms_max_attempts: int = Field(default=8, ge=1, le=50)
    # A send whose answer was lost is checked with the carrier, then retried, after this.
    sms_uncertain_after_seconds: float = Field(default=120.0, gt=0)
    # When on, Twilio Lookup's line type decides whether a number can take texts.
    twilio_lookup: bool = False

    # Email: "console" keeps mail in an outbox staff can read; "smtp" sends through SMTP_URL
    # (smtp://user:pass@host:587 with STARTTLS when offered, smtps://… TLS from the start).
    email_gateway: Literal["console", "smtp"] = "console"
    smtp_url: SecretStr | None = None
    # Refuse a smtp:// server that does not offer STARTTLS instead of sending in the clear.
    smtp_require_tls: bool = False
    smtp_timeout_seconds: float = Field(default=30.0, gt=0, le=300)
    email_from: str = "311 <no-reply@localhost>"
    email_rate_per_second: int = Field(default=20, ge=1, le=10_000)
    email_max_attempts: int = Field(default=8, ge=1, le=50)
    # A sign-up for news alerts must be confirmed within this many hours.
    alert_confirm_hours: int = Field(default=48, ge=1, le=24 * 14)
    # Open and click counts for news alerts (aggregate, per alert); off unless turned on.
    alert_tracking: bool = False

    # A new request is flagged as a possible duplicate of open requests for the same
    # service this close (same address, or within the radius) filed within the window.
    duplicate_window_hours: int = Field(default=72, ge=1)
    duplicate_radius_meters: float = Field(default=50.0, gt=0)
    # What the public Open311 feed carries of requests' free text: "none", "filtered"
    # (descriptions and published notes through the personal-data filter) or "reviewed"
    # (only text staff reviewed and published, through the filter). See docs/privacy.md.
    public_text: Literal["none", "filtered", "reviewed"] = "reviewed"

    # Retention: the purge deletes this many rows per transaction, pausing between
    # batches so that webhooks keep flowing during a large purge.
    retention_batch_size: int = Field(default=500, ge=1, le=100_000)
    retention_pause_seconds: float = Field(default=0.01, ge=0, le=10)
    # The app's own minimal access log (kept one calendar month).
    access_log: bool = True
    # Business days for privacy deadlines: weekends, US federal holidays when on, and
    # these extra dates (comma-separated ISO dates, e.g. city holidays).
    us_federal_holidays: bool = True
    holidays: str = ""
    # The city's state or territory (e.g. "DE"): its own public holidays count too.
    holiday_state: str | None = None
    # Published statistics suppress any count below this.
    report_min_cell: int = Field(default=5, ge=1, le=1000)

    # Console sessions and sign-in throttling.
    session_idle_minutes: int = Field(default=30, ge=1, le=24 * 60)
    session_max_hours: int = Field(default=12, ge=1, le=7 * 24)
    # The console's screen-pop stream ends after this long; the browser reconnects by itself.
    console_stream_seconds: float = Field(default=55.0, gt=0, le=3600)
    # When on, supervisors, privacy officers and administrators must use a TOTP code.
    require_second_factor: bool = False
    sign_in_max_failures: int = Field(default=5, ge=1)
    sign_in_network_max_failures: int = Field(default=50, ge=1)
    sign_in_window_minutes: int = Field(default=15, ge=1)
    sign_in_lockout_minutes: int = Field(default=15, ge=1)
    # Proxies whose X-Forwarded-For is believed (uvicorn's forwarded_allow_ips).
    forwarded_allow_ips: str = "127.0.0.1"

    max_webhook_body_bytes: int = Field(default=64 * 1024, ge=1024)
    max_api_body_bytes: int = Field(default=1024 * 1024, ge=1024)
    log_level: str = "INFO"

    @field_validator("public_url")
    @classmethod
    def _no_trailing_slash(cls, value: str) -> str:
        return value.rstrip("/")

    @field_validator("smtp_url")
    @classmethod
    def _smtp_scheme(cls, value: SecretStr | None) -> SecretStr | None:
        if value is not None and not value.get_secret_value().startswith(("smtp://", "smtps://")):
            raise ValueError("SMTP_URL must start with smtp:// or smtps://")
        return value

    @field_validator("holidays")
    @classmethod
    def _iso_dates(cls, value: str) -> str:
        for part in (p.strip() for p in value.split(",")):
            if part:
                try:
                    date.fromisoformat(part)
                except ValueError as exc:
                    raise ValueError(f"{part!r} is not an ISO date (YYYY-MM-DD)") from exc
        return value

    @field_validator("holiday_state")
    @classmethod
    def _known_state(cls, value: str | None) -> str | None:
        if not value:
            return None
        code = value.strip().upper()
        if not (len(code) == 2 and code.isalpha()):
            raise ValueError(f"{value!r} is not a two-letter US state or territory code")
        return code

    @field_validator("timezone")
    @classmethod
    def _known_zone(cls, value: str) -> str:
        try:
            ZoneInfo(value)
        except (ZoneInfoNotFoundError, ValueError) as exc:
            raise ValueError(f"unknown time zone {value!r}") from exc
        return value

    @property
    def city_tz(self) -> ZoneInfo:
        return ZoneInfo(self.timezone)

    @property
    def effective_sms_gateway(self) -> Literal["console", "twilio"]:
        if self.sms_gateway is not None:
            return self.sms_gateway
        has_credentials = self.twilio_account_sid and self.twilio_auth_token
        return "twilio" if has_credentials else "console"

    @property
    def served_over_https(self) -> bool:
        return self.public_url.startswith("https://")

    @property
    def is_embedded_database(self) -> bool:
        return self.database_url.startswith("sqlite")
