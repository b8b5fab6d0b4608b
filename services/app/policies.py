"""Every feature's policies and ports, built from the settings once, at start-up.

A bad setting fails here, when the process starts, not in the middle of a call. The
features receive these objects through ``context.part(Type)`` and never read the
settings themselves.
"""

from __future__ import annotations

from datetime import timedelta

from services.alerts.service import AlertPolicy
from services.appointments.service import TextPolicy, VisitHours
from services.console.pages import ConsolePolicy
from services.contacts.callbacks import CallbackPolicy
from services.directory.hours import BusinessHours
from services.directory.ivr import IvrPolicy
from services.email.compose import Mailer
from services.email.gateway import ConsoleEmail, EmailGateway, SmtpGateway, SmtpServer
from services.messaging.carrier import ConsoleGateway, SmsGateway
from services.messaging.sending import Outbound
from services.messaging.service import QuietHours
from services.platform.clock import Clock, SystemClock
from services.platform.context import City
from services.platform.settings import Settings
from services.privacy.calendar import BusinessCalendar
from services.recordings.service import RecordingPolicy
from services.reports.service import Publication
from services.requests.service import DuplicatePolicy, PublicText
from services.retention.purge import PurgePolicy
from services.staff.service import PresencePolicy
from services.staff.sign_in import SECOND_FACTOR_ROLES, SessionPolicy
from services.updates.service import UpdatePolicy
from telephony.calls import TwilioCallbackDialer
from telephony.recordings import TwilioRecordingSource
from telephony.rest import TwilioAccount
from telephony.sms import TwilioTextGateway


def city_of(settings: Settings) -> City:
    return City(
        name=settings.city_name,
        tz=settings.city_tz,
        region=settings.default_region,
        public_url=settings.public_url,
    )


def twilio_account(settings: Settings) -> TwilioAccount | None:
    """The city's Twilio account, for every adapter that calls Twilio; None without
    credentials (texts then go to the console outbox, callbacks are refused, recordings
    are not fetched)."""
    if not (settings.twilio_account_sid and settings.twilio_auth_token):
        return None
    return TwilioAccount(
        settings.twilio_account_sid,
        settings.twilio_auth_token.get_secret_value(),
        api_base_url=settings.twilio_api_base_url,
        timeout=settings.twilio_timeout_seconds,
    )


def text_carrier(settings: Settings, twilio: TwilioAccount | None) -> SmsGateway:
    """Twilio with credentials (unless told otherwise), the console outbox without."""
    if settings.effective_sms_gateway == "console":
        return ConsoleGateway()
    if twilio is None:
        raise ValueError("SMS_GATEWAY=twilio needs TWILIO_ACCOUNT_SID and TWILIO_AUTH_TOKEN")
    return TwilioTextGateway(
        twilio,
        from_number=settings.twilio_from_number,
        messaging_service_sid=settings.twilio_messaging_service_sid,
        lookups=settings.twilio_lookup,
    )


def mail_gateway(settings: Settings, clock: Clock) -> EmailGateway:
    """SMTP when chosen (SMTP_URL required), the console outbox otherwise (which notes,
    by ``clock``, when each message was handed to it)."""
    if settings.email_gateway == "console":
        return ConsoleEmail(clock=clock)
    if settings.smtp_url is None:
        raise ValueError("EMAIL_GATEWAY=smtp needs SMTP_URL")
    return SmtpGateway(
        SmtpServer.parse(settings.smtp_url.get_secret_value()),
        require_tls=settings.smtp_require_tls,
        timeout=settings.smtp_timeout_seconds,
    )


def mailer(settings: Settings, clock: Clock) -> Mailer:
    return Mailer(
        gateway=mail_gateway(settings, clock),
        sender=settings.email_from,
        public_url=settings.public_url,
        rate_per_second=settings.email_rate_per_second,
        max_attempts=settings.email_max_attempts,
    )


def callback_policy(settings: Settings, twilio: TwilioAccount | None) -> CallbackPolicy:
    """Callbacks ring through Twilio with credentials; without, they are refused."""
    return CallbackPolicy(
        dialer=TwilioCallbackDialer(twilio) if twilio else None,
        caller_id=settings.callback_caller_id or settings.twilio_from_number,
        status_callback=f"{settings.public_url}/twilio/voice/status",
    )


def session_policy(settings: Settings) -> SessionPolicy:
    return SessionPolicy(
        idle=timedelta(minutes=settings.session_idle_minutes),
        lifetime=timedelta(hours=settings.session_max_hours),
        totp_required_roles=SECOND_FACTOR_ROLES if settings.require_second_factor else frozenset(),
        max_account_failures=settings.sign_in_max_failures,
        max_network_failures=settings.sign_in_network_max_failures,
        failure_window=timedelta(minutes=settings.sign_in_window_minutes),
        lockout=timedelta(minutes=settings.sign_in_lockout_minutes),
    )


def policies(settings: Settings, clock: Clock | None = None) -> list[object]:
    """One object per policy or port (those that tell the time read ``clock``, the
    system's unless given); ValueError names a setting that cannot be used."""
    clock = clock or SystemClock()
    tz = settings.city_tz
    twilio = twilio_account(settings)
    carrier = text_carrier(settings, twilio)
    return [
        settings,  # for the composition root itself; features cannot name its type
        IvrPolicy(
            city=settings.city_name,
            hours=BusinessHours.parse(settings.business_hours),
            tz=tz,
            dial_timeout_seconds=settings.dial_timeout_seconds,
            voicemail_max_seconds=settings.voicemail_max_seconds,
            agent_offers=settings.agent_offers_per_call,
            hours_text=settings.business_hours,
        ),
        PresencePolicy(wrap_up_limit=timedelta(seconds=settings.wrap_up_limit_seconds)),
        DuplicatePolicy(
            window=timedelta(hours=settings.duplicate_window_hours),
            radius_meters=settings.duplicate_radius_meters,
        ),
        PublicText(mode=settings.public_text),
        Outbound(
            carrier=carrier,
            status_callback=(
                f"{settings.public_url}/twilio/sms/status" if carrier.name == "twilio" else None
            ),
            max_attempts=settings.sms_max_attempts,
            rate_per_second=settings.sms_rate_per_second,
            uncertain_after=timedelta(seconds=settings.sms_uncertain_after_seconds),
        ),
        TextPolicy(
            city=settings.city_name,
            tz=tz,
            quiet=QuietHours.parse(settings.sms_quiet_hours, tz),
            reminder_lead=timedelta(hours=settings.sms_reminder_lead_hours),
        ),
        VisitHours(
            tz=tz,
            default=BusinessHours.parse(settings.visit_hours) if settings.visit_hours else None,
            departments={
                name: BusinessHours.parse(hours)
                for name, hours in settings.department_visit_hours.items()
            },
        ),
        RecordingPolicy(
            source=TwilioRecordingSource(twilio) if twilio else None,
            ffmpeg_path=settings.ffmpeg_path,
            delete_from_twilio=settings.delete_twilio_recordings,
            max_attempts=settings.recording_max_attempts,
        ),
        session_policy(settings),
        callback_policy(settings, twilio),
        BusinessCalendar.from_settings(
            settings.us_federal_holidays, settings.holidays, settings.holiday_state
        ),
        PurgePolicy(
            batch_size=settings.retention_batch_size,
            pause_seconds=settings.retention_pause_seconds,
        ),
        Publication(min_cell=settings.report_min_cell),
        ConsolePolicy(stream_seconds=settings.console_stream_seconds),
        mailer(settings, clock),
        UpdatePolicy(
            city=settings.city_name,
            quiet=QuietHours.parse(settings.sms_quiet_hours, tz),
            public_url=settings.public_url,
        ),
        AlertPolicy(
            city=settings.city_name,
            public_url=settings.public_url,
            confirm_within=timedelta(hours=settings.alert_confirm_hours),
            tracking=settings.alert_tracking,
        ),
    ]
