"""GS1 Digital Link parsing and a linkset resolver for UNTP credentials."""

from valuetrace.resolver._digitallink import DigitalLink, gs1_check_digit, parse_digital_link
from valuetrace.resolver._linkset import (
    UNTP_LINK_TYPES,
    LinkRecord,
    build_linkset,
    normalise_link_type,
)
from valuetrace.resolver._resolver import Resolver

__all__ = [
    "UNTP_LINK_TYPES",
    "DigitalLink",
    "LinkRecord",
    "Resolver",
    "build_linkset",
    "gs1_check_digit",
    "normalise_link_type",
    "parse_digital_link",
]
