"""The EWS operations the fake server answers, each reading one request and changing the store."""

from __future__ import annotations

import base64
import xml.etree.ElementTree as ET
from collections.abc import Callable

from backends.ews_soap import (
    ItemError,
    SoapFault,
    error,
    ext_key,
    folder_ref,
    folder_refs,
    folder_xml,
    item_id_xml,
    item_xml,
    m,
    matches,
    ok,
    parse_time,
    t,
)
from backends.ews_store import SERVER_TIME, EwsStore, FakeItem, recipients_of

Handler = Callable[[EwsStore, ET.Element], list[str]]


def _kids(req: ET.Element, tag: str) -> list[ET.Element]:
    found = req.find(m(tag))
    return [] if found is None else list(found)


def _requested(elem: ET.Element, uri: str) -> bool:
    return any(f.get("FieldURI") == uri for f in elem.iter(t("FieldURI")))


def get_folder(store: EwsStore, req: ET.Element) -> list[str]:
    answers = []
    for ref in folder_refs(store, req.find(m("FolderIds"))):
        try:
            folder = folder_ref(store, ref)
        except ItemError as err:
            answers.append(error("GetFolder", err.code, str(err)))
            continue
        answers.append(ok("GetFolder", f"<m:Folders>{folder_xml(store, folder)}</m:Folders>"))
    return answers


def find_folder(store: EwsStore, req: ET.Element) -> list[str]:
    restriction = req.find(m("Restriction"))
    answers = []
    for ref in folder_refs(store, req.find(m("ParentFolderIds"))):
        parent = folder_ref(store, ref)
        found = [f for f in store.folders.values() if f.parent == parent.id]
        if restriction is not None:
            constant = restriction.find(f".//{t('Constant')}")
            wanted = "" if constant is None else constant.get("Value", "")
            found = [f for f in found if f.name.lower() == wanted.lower()]
        inner = "".join(folder_xml(store, f) for f in found)
        answers.append(
            ok(
                "FindFolder",
                f'<m:RootFolder IndexedPagingOffset="{len(found)}" TotalItemsInView="{len(found)}" '
                f'IncludesLastItemInRange="true"><t:Folders>{inner}</t:Folders></m:RootFolder>',
            )
        )
    return answers


def create_folder(store: EwsStore, req: ET.Element) -> list[str]:
    parent_ref = folder_refs(store, req.find(m("ParentFolderId")))[0]
    parent = folder_ref(store, parent_ref)
    answers = []
    for spec in _kids(req, "Folders"):
        name = spec.findtext(t("DisplayName")) or ""
        clash = [f for f in store.folders.values() if f.parent == parent.id and f.name == name]
        if clash:
            answers.append(error("CreateFolder", "ErrorFolderExists", "folder exists"))
            continue
        folder = store.create_folder(parent.id, name, spec.findtext(t("FolderClass")) or "IPF.Note")
        answers.append(ok("CreateFolder", f"<m:Folders>{folder_xml(store, folder)}</m:Folders>"))
    return answers


def sync_folder_items(store: EwsStore, req: ET.Element) -> list[str]:
    folder = folder_ref(store, folder_refs(store, req.find(m("SyncFolderId")))[0])
    state_text = req.findtext(m("SyncState"))
    try:
        since = int(base64.b64decode(state_text).decode().removeprefix("pos:")) if state_text else 0
    except ValueError:
        # As a fault: exchangelib reads SyncState before the response code of a message.
        raise SoapFault("ErrorInvalidSyncStateData", "bad sync state") from None
    limit = int(req.findtext(m("MaxChangesReturned")) or "100")
    changes, position, last = store.sync(folder.id, since, limit)
    parts = []
    for change in changes:
        item = store.items.get(change.item_id)
        if change.kind == "create" and item is not None:
            parts.append(f"<t:Create>{item_xml(item)}</t:Create>")
        else:
            parts.append(f'<t:Delete><t:ItemId Id="{change.item_id}"/></t:Delete>')
    state = base64.b64encode(f"pos:{position}".encode()).decode()
    inner = (
        f"<m:SyncState>{state}</m:SyncState>"
        f"<m:IncludesLastItemInRange>{str(last).lower()}</m:IncludesLastItemInRange>"
        f"<m:Changes>{''.join(parts)}</m:Changes>"
    )
    return [ok("SyncFolderItems", inner)]


def get_item(store: EwsStore, req: ET.Element) -> list[str]:
    with_mime = _requested(req, "item:MimeContent")
    answers = []
    for ref in _kids(req, "ItemIds"):
        item = store.items.get(ref.get("Id", ""))
        if item is None:
            answers.append(
                error("GetItem", "ErrorItemNotFound", "The specified object was not found")
            )
        else:
            answers.append(ok("GetItem", f"<m:Items>{item_xml(item, with_mime)}</m:Items>"))
    return answers


def move_item(store: EwsStore, req: ET.Element) -> list[str]:
    target = folder_ref(store, folder_refs(store, req.find(m("ToFolderId")))[0])
    answers = []
    for ref in _kids(req, "ItemIds"):
        moved = store.move(ref.get("Id", ""), target.id)
        if moved is None:
            answers.append(
                error("MoveItem", "ErrorItemNotFound", "The specified object was not found")
            )
        else:
            answers.append(
                ok("MoveItem", f"<m:Items><t:Message>{item_id_xml(moved)}</t:Message></m:Items>")
            )
    return answers


def _calendar_fields(item: FakeItem, spec: ET.Element) -> None:
    for child in spec:
        name = child.tag.split("}")[1]
        if name == "Subject":
            item.subject = child.text or ""
        elif name == "Body":
            item.body = child.text or ""
        elif name == "Start":
            item.start = parse_time(child.text or "")
        elif name == "End":
            item.end = parse_time(child.text or "")
        elif name == "IsAllDayEvent":
            item.all_day = (child.text or "").lower() in ("1", "true")
        elif name == "Categories":
            item.categories = [s.text or "" for s in child]
        elif name == "ExtendedProperty":
            uri = child.find(t("ExtendedFieldURI"))
            if uri is not None:
                item.extended[ext_key(uri)] = child.findtext(t("Value")) or ""


def create_item(store: EwsStore, req: ET.Element) -> list[str]:
    disposition = req.get("MessageDisposition", "SaveOnly")
    saved_in = folder_refs(store, req.find(m("SavedItemFolderId")))
    answers = []
    for spec in _kids(req, "Items"):
        kind = spec.tag.split("}")[1]
        if kind == "CalendarItem":
            folder = folder_ref(store, saved_in[0]) if saved_in else store.distinguished("calendar")
            assert folder is not None
            item = FakeItem(store.next_id("CAL"), folder.id, "CalendarItem", SERVER_TIME)
            _calendar_fields(item, spec)
            store.put(item)
            answers.append(ok("CreateItem", f"<m:Items>{item_xml(item)}</m:Items>"))
            continue
        if kind != "Message" or spec.find(t("MimeContent")) is None:
            raise SoapFault(
                "ErrorInvalidRequest", f"the fake creates only MIME messages, not {kind}"
            )
        mime = base64.b64decode(spec.findtext(t("MimeContent")) or "")
        if disposition in ("SendAndSaveCopy", "SendOnly"):
            extra = [a.text.lower() for a in spec.iter(t("EmailAddress")) if a.text]
            store.deliveries.append((sorted({*recipients_of(mime), *extra}), mime))
        if disposition == "SendOnly":
            answers.append(ok("CreateItem", "<m:Items/>"))
            continue
        default = "sentitems" if disposition == "SendAndSaveCopy" else "drafts"
        folder = folder_ref(store, saved_in[0]) if saved_in else store.distinguished(default)
        assert folder is not None
        saved = store.add_message(mime, folder.id, SERVER_TIME, draft=disposition == "SaveOnly")
        # Exchange answers a send with no items; a save with the new item's id.
        inner = (
            "<m:Items/>" if disposition != "SaveOnly" else f"<m:Items>{item_xml(saved)}</m:Items>"
        )
        answers.append(ok("CreateItem", inner))
    return answers


def update_item(store: EwsStore, req: ET.Element) -> list[str]:
    answers = []
    for change in req.iter(t("ItemChange")):
        ref = change.find(t("ItemId"))
        item = store.items.get("" if ref is None else ref.get("Id", ""))
        if item is None:
            answers.append(
                error("UpdateItem", "ErrorItemNotFound", "The specified object was not found")
            )
            continue
        updates = change.find(t("Updates"))
        for update in [] if updates is None else list(updates):
            if update.tag == t("SetItemField"):
                _calendar_fields(item, update[-1])
            elif update.tag == t("DeleteItemField") and update[0].tag == t("ExtendedFieldURI"):
                item.extended.pop(ext_key(update[0]), None)
        item.version += 1
        conflicts = "<m:ConflictResults><t:Count>0</t:Count></m:ConflictResults>"
        inner = f"<m:Items>{item_xml(item)}</m:Items>{conflicts}"
        answers.append(ok("UpdateItem", inner))
    return answers


def find_item(store: EwsStore, req: ET.Element) -> list[str]:
    restriction = req.find(m("Restriction"))
    answers = []
    for ref in folder_refs(store, req.find(m("ParentFolderIds"))):
        try:
            folder = folder_ref(store, ref)
        except ItemError as err:
            answers.append(error("FindItem", err.code, str(err)))
            continue
        found = store.in_folder(folder.id)
        if restriction is not None:
            found = [i for i in found if matches(i, restriction[0])]
        inner = "".join(item_xml(i) for i in found)
        answers.append(
            ok(
                "FindItem",
                f'<m:RootFolder IndexedPagingOffset="{len(found)}" TotalItemsInView="{len(found)}" '
                f'IncludesLastItemInRange="true"><t:Items>{inner}</t:Items></m:RootFolder>',
            )
        )
    return answers


def delete_item(store: EwsStore, req: ET.Element) -> list[str]:
    answers = []
    for ref in _kids(req, "ItemIds"):
        with store.lock:
            item = store.items.pop(ref.get("Id", ""), None)
        if item is None:
            answers.append(
                error("DeleteItem", "ErrorItemNotFound", "The specified object was not found")
            )
        else:
            answers.append(ok("DeleteItem"))
    return answers


OPERATIONS: dict[str, Handler] = {
    "GetFolder": get_folder,
    "FindFolder": find_folder,
    "CreateFolder": create_folder,
    "SyncFolderItems": sync_folder_items,
    "GetItem": get_item,
    "MoveItem": move_item,
    "CreateItem": create_item,
    "UpdateItem": update_item,
    "FindItem": find_item,
    "DeleteItem": delete_item,
}
