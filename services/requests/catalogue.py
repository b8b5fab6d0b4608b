"""The service catalogue: what a request can be filed against, by code."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from services.requests.models import ServiceType


@dataclass(frozen=True)
class Service:
    code: str
    name: str
    description: str
    department: str
    group: str
    keywords: str = ""


# Common 311 services, seeded on first start; administrators edit them.
DEFAULT_SERVICES = (
    Service(
        "pothole",
        "Pothole",
        "A hole or sinking in the road surface.",
        "Public Works",
        "Streets",
        "road,street,hole",
    ),
    Service(
        "streetlight",
        "Street light out",
        "A street light that is out, flickering or on all day.",
        "Public Works",
        "Streets",
        "lamp,light,dark",
    ),
    Service(
        "traffic-signal",
        "Traffic signal problem",
        "A signal that is dark, stuck or damaged.",
        "Transportation",
        "Streets",
        "signal,light,intersection",
    ),
    Service(
        "missed-trash",
        "Missed trash or recycling",
        "Trash or recycling not collected on the scheduled day.",
        "Sanitation",
        "Trash and recycling",
        "garbage,trash,recycling,pickup",
    ),
    Service(
        "bulk-pickup",
        "Bulk item pickup",
        "Collection of furniture, appliances or other large items, by appointment.",
        "Sanitation",
        "Trash and recycling",
        "furniture,mattress,appliance",
    ),
    Service(
        "illegal-dumping",
        "Illegal dumping",
        "Trash or debris dumped on public or vacant land.",
        "Sanitation",
        "Trash and recycling",
        "dumping,debris",
    ),
    Service(
        "graffiti",
        "Graffiti",
        "Graffiti on public property or visible from the street.",
        "Public Works",
        "Neighborhood",
        "paint,tag,vandalism",
    ),
    Service(
        "water-leak",
        "Water leak",
        "Water running from a street, hydrant or meter.",
        "Water",
        "Water and sewer",
        "leak,hydrant,main",
    ),
    Service(
        "sewer-backup",
        "Sewer backup",
        "Sewage backing up or a blocked storm drain.",
        "Water",
        "Water and sewer",
        "sewer,drain,flood",
    ),
    Service(
        "abandoned-vehicle",
        "Abandoned vehicle",
        "A vehicle left on the street for more than 72 hours.",
        "Police",
        "Parking and vehicles",
        "car,vehicle,parking",
    ),
    Service(
        "housing-inspection",
        "Housing inspection",
        "Unsafe or unhealthy conditions in a rental home, by appointment.",
        "Licenses and Inspections",
        "Housing",
        "landlord,heat,mold,rental",
    ),
    Service(
        "tree-maintenance",
        "Tree maintenance",
        "A fallen, dead or overhanging tree on public land.",
        "Parks",
        "Neighborhood",
        "tree,branch,limb",
    ),
    Service(
        "noise",
        "Noise complaint",
        "Ongoing loud noise from a business or property.",
        "Licenses and Inspections",
        "Neighborhood",
        "noise,loud,music",
    ),
)


def ensure_catalogue(session: Session) -> None:
    """Seed the catalogue on first start."""
    if session.scalar(select(func.count()).select_from(ServiceType)):
        return
    for service in DEFAULT_SERVICES:
        session.add(ServiceType(**vars(service), active=True))
    session.flush()


def list_services(session: Session, *, include_inactive: bool = False) -> list[ServiceType]:
    query = select(ServiceType).order_by(ServiceType.group, ServiceType.name)
    if not include_inactive:
        query = query.where(ServiceType.active.is_(True))
    return list(session.scalars(query))


def last_changed(session: Session) -> datetime | None:
    """When staff last added, edited or retired a service (None: never, as seeded)."""
    return session.scalar(select(func.max(ServiceType.changed_at)))


def get_service(session: Session, code: str) -> ServiceType | None:
    return session.scalar(select(ServiceType).where(ServiceType.code == code))
