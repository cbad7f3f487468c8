"""EPCIS 2.0 events: validation, the CBV 2.0 event hash, a repository with query and trace."""

from valuetrace.epcis._bridge import CredentialIssuerParty as CredentialIssuerParty
from valuetrace.epcis._bridge import dte_to_events as dte_to_events
from valuetrace.epcis._bridge import event_to_dte as event_to_dte
from valuetrace.epcis._bridge import issue_dte as issue_dte
from valuetrace.epcis._cbv import canonical_cbv as canonical_cbv
from valuetrace.epcis._cbv import normalise_event as normalise_event
from valuetrace.epcis._document import DEFAULT_MAX_DOCUMENT_BYTES as DEFAULT_MAX_DOCUMENT_BYTES
from valuetrace.epcis._document import EPCISDocumentError as EPCISDocumentError
from valuetrace.epcis._document import EPCISProblem as EPCISProblem
from valuetrace.epcis._document import document_context as document_context
from valuetrace.epcis._document import document_events as document_events
from valuetrace.epcis._document import load_document as load_document
from valuetrace.epcis._hash import event_hash as event_hash
from valuetrace.epcis._hash import event_prehash as event_prehash
from valuetrace.epcis._identifiers import canonical_identifier as canonical_identifier
from valuetrace.epcis._jobs import CaptureJob as CaptureJob
from valuetrace.epcis._query import QueryPage as QueryPage
from valuetrace.epcis._query import QueryParameterError as QueryParameterError
from valuetrace.epcis._repository import DUPLICATE_EVENT_RULE as DUPLICATE_EVENT_RULE
from valuetrace.epcis._repository import DuplicateEventError as DuplicateEventError
from valuetrace.epcis._repository import EventRepository as EventRepository
from valuetrace.epcis._trace import TraceResult as TraceResult
from valuetrace.epcis._validate import validate_document as validate_document
from valuetrace.epcis._validate import validate_event as validate_event
