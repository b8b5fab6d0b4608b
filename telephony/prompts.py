"""What the IVR says, in English and Spanish."""

from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True)
class Prompts:
    voice: str
    language: str
    welcome: str
    recording_notice: str
    option: str  # "For {name}, press {digits}."
    not_an_option: str
    connecting: str
    nobody_available: str
    after_hours: str
    leave_message: str
    no_message: str
    thanks_goodbye: str


ENGLISH = Prompts(
    voice="Polly.Joanna",
    language="en-US",
    welcome="Thank you for calling {city} 311.",
    recording_notice="This call may be recorded for quality assurance and training.",
    option="For {name}, press {digits}.",
    not_an_option="Sorry, that is not one of the choices.",
    connecting="Please hold while we connect you to {name}.",
    nobody_available="All of our call takers are busy right now.",
    after_hours="Our call takers are not available at this hour.",
    leave_message=(
        "Please leave a message describing the problem and where it is after the tone, "
        "then press the pound key. You do not have to give your name."
    ),
    no_message="We did not receive a message.",
    thanks_goodbye="Thank you for calling. Goodbye.",
)

SPANISH = Prompts(
    voice="Polly.Lupe",
    language="es-US",
    welcome="Gracias por llamar al 311 de {city}.",
    recording_notice=("Esta llamada puede ser grabada para control de calidad y capacitación."),
    option="Para {name}, oprima {digits}.",
    not_an_option="Lo sentimos, esa no es una de las opciones.",
    connecting="Por favor espere mientras le comunicamos con {name}.",
    nobody_available="En este momento todos nuestros operadores están ocupados.",
    after_hours="Nuestros operadores no están disponibles a esta hora.",
    leave_message=(
        "Después del tono, deje un mensaje describiendo el problema y dónde se encuentra, "
        "y luego oprima la tecla de número. No tiene que dar su nombre."
    ),
    no_message="No recibimos ningún mensaje.",
    thanks_goodbye="Gracias por llamar. Adiós.",
)

SPANISH_CHOICE = "Para español, oprima 9."


def prompts_for(language: str) -> Prompts:
    return SPANISH if language == "es" else ENGLISH
