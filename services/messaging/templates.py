"""The texts callers receive, in English and Spanish.

Each carries the request number and the appointment and nothing else personal, and
never a link: the city does not send links that ask for personal or financial data, so
a text with a link claiming to be from 311 is a fake.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from zoneinfo import ZoneInfo

MONTHS = {
    "en": ("Jan", "Feb", "Mar", "Apr", "May", "Jun", "Jul", "Aug", "Sep", "Oct", "Nov", "Dec"),
    "es": ("ene", "feb", "mar", "abr", "may", "jun", "jul", "ago", "sep", "oct", "nov", "dic"),
}
DAYS = {
    "en": ("Mon", "Tue", "Wed", "Thu", "Fri", "Sat", "Sun"),
    "es": ("lun", "mar", "mié", "jue", "vie", "sáb", "dom"),
}
TEXTS = {
    "en": {
        "confirmation": "{city} 311: your appointment for request {number} is booked for {when} at {place}. Reply HELP for help, STOP to stop texts.",
        "reminder": "{city} 311 reminder: your appointment for request {number} is {when} at {place}. Reply STOP to stop texts.",
        "reschedule": "{city} 311: your appointment for request {number} has moved to {when} at {place}. Reply STOP to stop texts.",
        "cancellation": "{city} 311: your appointment for request {number} on {when} is cancelled. Call 311 to book again.",
        "help": "{city} 311: texts about your service appointments. Call 311 for help. Reply STOP to stop texts. Msg & data rates may apply.",
        "stop": "",
        "start": "{city} 311: you will get texts about your appointments again. Reply STOP to stop.",
    },
    "es": {
        "confirmation": "311 de {city}: su cita para la solicitud {number} es el {when} en {place}. Responda AYUDA para ayuda, STOP para no recibir mensajes.",
        "reminder": "311 de {city}, recordatorio: su cita para la solicitud {number} es el {when} en {place}. Responda STOP para no recibir mensajes.",
        "reschedule": "311 de {city}: su cita para la solicitud {number} cambió al {when} en {place}. Responda STOP para no recibir mensajes.",
        "cancellation": "311 de {city}: su cita para la solicitud {number} del {when} fue cancelada. Llame al 311 para pedir otra.",
        "help": "311 de {city}: mensajes sobre sus citas de servicio. Llame al 311 para ayuda. Responda STOP para no recibir mensajes.",
        "stop": "",
        "start": "311 de {city}: volverá a recibir mensajes sobre sus citas. Responda STOP para dejar de recibirlos.",
    },
}


@dataclass(frozen=True)
class Window:
    starts_at: datetime
    ends_at: datetime


def _time(instant: datetime, language: str) -> str:
    if language == "es":
        return instant.strftime("%H:%M")
    hour = instant.hour % 12 or 12
    return f"{hour}:{instant.minute:02d} {'am' if instant.hour < 12 else 'pm'}"


def when(window: Window, language: str, tz: ZoneInfo) -> str:
    """ "Thu Nov 19, 9:00 am-11:00 am" / "jue 19 nov, 09:00-11:00", in the city's time."""
    start, end = window.starts_at.astimezone(tz), window.ends_at.astimezone(tz)
    day = DAYS[language][start.weekday()]
    month = MONTHS[language][start.month - 1]
    date = f"{day} {start.day} {month}" if language == "es" else f"{day} {month} {start.day}"
    return f"{date}, {_time(start, language)}-{_time(end, language)}"


def render(
    kind: str,
    language: str,
    *,
    city: str,
    number: str = "",
    window: Window | None = None,
    place: str = "",
    tz: ZoneInfo | None = None,
) -> str:
    """The text of ``kind`` in ``language`` ("en" or "es")."""
    template = TEXTS["es" if language == "es" else "en"][kind]
    moment = when(window, language, tz) if window is not None and tz is not None else ""
    return template.format(city=city, number=number, when=moment, place=place)
