"""SOAP for the fake EWS server: reading exchangelib's requests and writing EWS responses."""

from __future__ import annotations

import base64
import xml.etree.ElementTree as ET
from datetime import UTC, datetime
from xml.sax.saxutils import escape, quoteattr

from backends.ews_store import EwsStore, ExtKey, FakeFolder, FakeItem

S = "http://schemas.xmlsoap.org/soap/envelope/"
M = "http://schemas.microsoft.com/exchange/services/2006/messages"
T = "http://schemas.microsoft.com/exchange/services/2006/types"
E = "http://schemas.microsoft.com/exchange/services/2006/errors"


class SoapFault(Exception):
    """A request the fake cannot answer; sent back as a SOAP fault so the test sees it."""

    def __init__(self, code: str, text: str) -> None:
        super().__init__(text)
        self.code = code
        self.text = text


class ItemError(Exception):
    """An error for one element of a request (one item or folder), not the whole request."""

    def __init__(self, code: str, text: str) -> None:
        super().__init__(text)
        self.code = code


def m(tag: str) -> str:
    return f"{{{M}}}{tag}"


def t(tag: str) -> str:
    return f"{{{T}}}{tag}"


def envelope(op: str, messages: list[str]) -> bytes:
    body = "".join(messages)
    return (
        '<?xml version="1.0" encoding="utf-8"?>'
        f'<s:Envelope xmlns:s="{S}" xmlns:m="{M}" xmlns:t="{T}"><s:Body>'
        f"<m:{op}Response><m:ResponseMessages>{body}</m:ResponseMessages></m:{op}Response>"
        "</s:Body></s:Envelope>"
    ).encode()


def fault(code: str, text: str, back_off_ms: int | None = None) -> bytes:
    extra = ""
    if back_off_ms is not None:
        extra = (
            f'<t:MessageXml xmlns:t="{T}">'
            f'<t:Value Name="BackOffMilliseconds">{back_off_ms}</t:Value></t:MessageXml>'
        )
    return (
        '<?xml version="1.0" encoding="utf-8"?>'
        f'<s:Envelope xmlns:s="{S}"><s:Body><s:Fault>'
        f'<faultcode xmlns:a="{T}">a:{code}</faultcode><faultstring>{escape(text)}</faultstring>'
        f'<detail><e:ResponseCode xmlns:e="{E}">{code}</e:ResponseCode>'
        f'<e:Message xmlns:e="{E}">{escape(text)}</e:Message>{extra}</detail>'
        "</s:Fault></s:Body></s:Envelope>"
    ).encode()


def ok(op: str, inner: str = "") -> str:
    return (
        f'<m:{op}ResponseMessage ResponseClass="Success"><m:ResponseCode>NoError</m:ResponseCode>'
        f"{inner}</m:{op}ResponseMessage>"
    )


def error(op: str, code: str, text: str) -> str:
    return (
        f'<m:{op}ResponseMessage ResponseClass="Error">'
        f"<m:MessageText>{escape(text)}</m:MessageText>"
        f"<m:ResponseCode>{code}</m:ResponseCode><m:DescriptiveLinkKey>0</m:DescriptiveLinkKey>"
        f"</m:{op}ResponseMessage>"
    )


def ews_time(moment: datetime) -> str:
    return moment.astimezone(UTC).strftime("%Y-%m-%dT%H:%M:%SZ")


def parse_time(text: str) -> datetime:
    return datetime.fromisoformat(text.replace("Z", "+00:00"))


def folder_xml(store: EwsStore, folder: FakeFolder) -> str:
    tag = "CalendarFolder" if folder.folder_class == "IPF.Appointment" else "Folder"
    parent = f"<t:ParentFolderId Id={quoteattr(folder.parent)}/>" if folder.parent else ""
    children = sum(1 for f in store.folders.values() if f.parent == folder.id)
    count = len(store.in_folder(folder.id))
    return (
        f'<t:{tag}><t:FolderId Id={quoteattr(folder.id)} ChangeKey="FCK"/>{parent}'
        f"<t:FolderClass>{folder.folder_class}</t:FolderClass>"
        f"<t:DisplayName>{escape(folder.name)}</t:DisplayName><t:TotalCount>{count}</t:TotalCount>"
        f"<t:ChildFolderCount>{children}</t:ChildFolderCount><t:UnreadCount>0</t:UnreadCount>"
        f"</t:{tag}>"
    )


def ext_xml(key: ExtKey, value: str) -> str:
    attrs = "".join(f" {name}={quoteattr(val)}" for name, val in key)
    return (
        f"<t:ExtendedProperty><t:ExtendedFieldURI{attrs}/>"
        f"<t:Value>{escape(value)}</t:Value></t:ExtendedProperty>"
    )


def item_id_xml(item: FakeItem) -> str:
    return f"<t:ItemId Id={quoteattr(item.id)} ChangeKey={quoteattr(item.changekey)}/>"


def item_xml(item: FakeItem, with_mime: bool = False) -> str:
    parts = [f"<t:{item.kind}>"]
    if with_mime:
        encoded = base64.b64encode(item.mime).decode("ascii")
        parts.append(f'<t:MimeContent CharacterSet="UTF-8">{encoded}</t:MimeContent>')
    parts.append(item_id_xml(item))
    parts.append(f"<t:ParentFolderId Id={quoteattr(item.folder)}/>")
    item_class = "IPM.Appointment" if item.kind == "CalendarItem" else "IPM.Note"
    parts.append(f"<t:ItemClass>{item_class}</t:ItemClass>")
    parts.append(f"<t:Subject>{escape(item.subject)}</t:Subject>")
    if item.kind == "CalendarItem":
        parts.append(f'<t:Body BodyType="Text">{escape(item.body)}</t:Body>')
    parts.append(f"<t:DateTimeReceived>{ews_time(item.received)}</t:DateTimeReceived>")
    if item.categories:
        strings = "".join(f"<t:String>{escape(c)}</t:String>" for c in item.categories)
        parts.append(f"<t:Categories>{strings}</t:Categories>")
    parts.extend(ext_xml(key, value) for key, value in item.extended.items())
    if item.kind == "CalendarItem" and item.start and item.end:
        parts.append(f"<t:Start>{ews_time(item.start)}</t:Start>")
        parts.append(f"<t:End>{ews_time(item.end)}</t:End>")
        parts.append(f"<t:IsAllDayEvent>{str(item.all_day).lower()}</t:IsAllDayEvent>")
    else:
        parts.append(f"<t:ConversationId Id={quoteattr(item.conversation_id)}/>")
        parts.append(f"<t:InternetMessageId>{escape(item.message_id)}</t:InternetMessageId>")
        parts.append(f"<t:IsDraft>{str(item.is_draft).lower()}</t:IsDraft>")
    parts.append(f"</t:{item.kind}>")
    return "".join(parts)


def ext_key(uri: ET.Element) -> ExtKey:
    return tuple(sorted(uri.attrib.items()))


def folder_ref(store: EwsStore, elem: ET.Element) -> FakeFolder:
    """The folder a FolderId or DistinguishedFolderId element names."""
    ident = elem.get("Id", "")
    found = store.distinguished(ident) if elem.tag == t("DistinguishedFolderId") else None
    found = found or store.folders.get(ident)
    if found is None:
        raise ItemError("ErrorFolderNotFound", f"The specified folder could not be found: {ident}")
    return found


def folder_refs(store: EwsStore, container: ET.Element | None) -> list[ET.Element]:
    if container is None:
        return []
    return [e for e in container if e.tag in (t("FolderId"), t("DistinguishedFolderId"))]


def field_value(item: FakeItem, path: ET.Element) -> str | None:
    if path.tag == t("ExtendedFieldURI"):
        return item.extended.get(ext_key(path))
    uri = path.get("FieldURI", "")
    values = {
        "message:InternetMessageId": item.message_id,
        "item:Subject": item.subject,
        "item:ItemClass": "IPM.Appointment" if item.kind == "CalendarItem" else "IPM.Note",
    }
    if uri not in values:
        raise SoapFault("ErrorUnsupportedPathForQuery", f"the fake cannot filter on {uri}")
    return values[uri]


def matches(item: FakeItem, condition: ET.Element) -> bool:
    """The restriction operators the backend uses: IsEqualTo, joined by And / Or / Not."""
    name = condition.tag.split("}")[1]
    if name == "And":
        return all(matches(item, c) for c in condition)
    if name == "Or":
        return any(matches(item, c) for c in condition)
    if name == "Not":
        return not matches(item, condition[0])
    if name == "IsEqualTo":
        path, constant = condition[0], condition.find(f"{t('FieldURIOrConstant')}/{t('Constant')}")
        if constant is None:
            raise SoapFault("ErrorInvalidRestriction", "IsEqualTo needs a constant")
        return field_value(item, path) == constant.get("Value")
    raise SoapFault("ErrorInvalidRestriction", f"the fake has no {name} restriction")
