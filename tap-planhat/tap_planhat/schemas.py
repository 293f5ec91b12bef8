"""Record schemas: every field of planhat-api.md §4, typed, and permissive where Planhat is.

Planhat returns some fields in more than one shape (a company `owner` is an id in
single GETs and `{_id, nickName}` in lists; conversation `endusers` are ids in the
model table and objects in the examples), so those accept both. `custom` holds the
tenant's custom fields under their display names and takes any keys. Records may carry
fields this file does not know yet: the schemas allow additional properties, and the
stream reports each such field once.

The models beyond the first seven follow planhat-api.md §4.7 and §11.3 and Planhat's
model pages (task, license, invoice, issue). Invoices date themselves in integer days
since 1970 and change `lastUpdated`, tickets change `updateDate`; both are read into
the same date-time form as every other date.

Fields whose shape no source describes accept any JSON value rather than a guess. Date
fields are date-time: `tap_planhat.values` reads every shape Planhat sends them in
(planhat-api.md §11.1) into one form, or null, so each emitted value fits. Where sources
disagree on a type, the looser one is kept (`h`: integer in Planhat's docs, number in
Airbyte's schema).
"""

from __future__ import annotations

from singer_sdk import typing as th

ID = th.StringType
TIMESTAMP = th.DateTimeType

ANY_VALUE = th.AnyOf(
    th.ObjectType(additional_properties=True),
    th.ArrayType(th.AnyType()),
    th.StringType(),
    th.NumberType(),
    th.BooleanType(),
)
"""Any JSON value, for fields whose shape no source describes (spelled out so that
schema-driven tools, the SDK's own tests among them, can read it). The object comes
first because SQL targets type an `anyOf` column by its first branch: a JSON column
holds every other branch too, a text column would refuse an object."""

ID_OR_OBJECT = th.AnyOf(th.ObjectType(additional_properties=True), th.StringType())
"""An objectId, or the object Planhat expands it to in list answers (object first, as
for ANY_VALUE)."""

CUSTOM = th.Property(
    "custom",
    th.ObjectType(additional_properties=True),
    description="Custom fields, keyed by their display names (which may contain spaces).",
)


def _model(*properties: th.Property) -> dict:
    """A record schema with the fields every Planhat model shares."""
    schema = th.PropertiesList(
        th.Property("_id", ID, required=True, description="Planhat's ObjectId."),
        *properties,
        CUSTOM,
        th.Property("createdAt", TIMESTAMP),
        th.Property(
            "updatedAt",
            TIMESTAMP,
            description=(
                "When Planhat last changed the record: the replication key of every stream "
                "but invoices and tickets. Null on records Planhat keeps without it."
            ),
        ),
        th.Property("__v", th.IntegerType, description="MongoDB document version."),
        additional_properties=True,
    ).to_dict()
    for definition in schema["properties"].values():
        if "anyOf" in definition:  # the SDK makes optional unions nullable with a bare "null"
            definition["anyOf"] = [
                {"type": "null"} if option == "null" else option for option in definition["anyOf"]
            ]
    return schema


def _strings(name: str) -> th.Property:
    return th.Property(name, th.ArrayType(th.StringType))


COMPANY = _model(
    th.Property("name", th.StringType),
    th.Property("slug", th.StringType),
    th.Property("externalId", th.StringType),
    th.Property("sourceId", th.StringType),
    th.Property("owner", ID_OR_OBJECT, description="Owner: a user id or {_id, nickName}."),
    th.Property("coOwner", ID_OR_OBJECT, description="Co-owner: a user id or {_id, nickName}."),
    th.Property("phase", th.StringType),
    th.Property("phaseSince", TIMESTAMP),
    th.Property("status", th.StringType, description="prospect, coming, customer, canceled, lost."),
    th.Property("customerFrom", TIMESTAMP),
    th.Property("customerTo", TIMESTAMP),
    th.Property("lastRenewal", TIMESTAMP),
    th.Property("renewalDate", TIMESTAMP),
    th.Property("renewalDaysFromNow", th.NumberType),
    th.Property("h", th.NumberType, description="Health score (an integer in Planhat's docs)."),
    th.Property("hProfile", ID),
    th.Property("hDiff", th.NumberType),
    th.Property("hDiffDate", TIMESTAMP),
    th.Property("csmScore", th.NumberType),
    th.Property("csmScoreLog", ANY_VALUE),
    th.Property("mrr", th.NumberType),
    th.Property("arr", th.NumberType),
    th.Property("mr", th.NumberType),
    th.Property("mrTotal", th.NumberType),
    th.Property("mrrTotal", th.NumberType),
    th.Property("nrr30", th.NumberType),
    th.Property("nrrTotal", th.NumberType),
    th.Property("renewalMrr", th.NumberType),
    th.Property("renewalArr", th.NumberType),
    th.Property("orgArrTotal", th.NumberType),
    th.Property("lastTouch", TIMESTAMP),
    th.Property("lastTouchType", th.StringType),
    th.Property("lastTouchByType", th.ObjectType(additional_properties=True)),
    th.Property("lastActive", TIMESTAMP),
    th.Property("lastActivities", ANY_VALUE),
    th.Property("nextTouch", TIMESTAMP),
    _strings("domains"),
    _strings("tags"),
    th.Property("description", th.StringType),
    th.Property("web", th.StringType),
    th.Property("address", th.StringType),
    th.Property("city", th.StringType),
    th.Property("zip", th.StringType),
    th.Property("country", th.StringType),
    th.Property("orgPath", th.StringType),
    th.Property("orgLevel", th.StringType),
    th.Property("headId", ID),
    th.Property("usage", th.ObjectType(additional_properties=True)),
    th.Property("sunits", th.ObjectType(additional_properties=True)),
    th.Property("createDate", TIMESTAMP),
    th.Property("lastUpdated", TIMESTAMP),
)

_PERSON = th.AnyOf(th.StringType(), th.ObjectType(additional_properties=True))
"""A conversation participant: an id, or `{id, name}` (`isOwner` for users)."""

CONVERSATION = _model(
    th.Property("companyId", ID),
    th.Property("companyName", th.StringType),
    th.Property("type", th.StringType, description="email, chat, ticket, call, note or custom."),
    th.Property("subject", th.StringType),
    th.Property("description", th.StringType, description="HTML body."),
    th.Property("snippet", th.StringType),
    th.Property("date", TIMESTAMP, description="When the conversation happened."),
    th.Property("outDate", TIMESTAMP),
    th.Property("createDate", TIMESTAMP),
    th.Property("updateDate", TIMESTAMP, description="Tickets carry this instead of updatedAt."),
    th.Property("users", th.ArrayType(_PERSON)),
    th.Property("endusers", th.ArrayType(_PERSON)),
    _strings("userIds"),
    th.Property("sender", ANY_VALUE),
    th.Property("starred", th.BooleanType),
    th.Property("pinned", th.BooleanType),
    th.Property("archived", th.BooleanType),
    th.Property("isOpen", th.BooleanType),
    th.Property("isSeen", th.BooleanType),
    th.Property("hasMore", th.BooleanType),
    th.Property("hasAttachments", th.BooleanType),
    th.Property("isCustomType", th.BooleanType),
    th.Property("externalId", th.StringType),
    th.Property("activityTags", th.ArrayType(th.AnyType())),
    _strings("tags"),
    _strings("emailTemplateIds"),
    th.Property("history", ANY_VALUE),
    th.Property("timeBucket", ANY_VALUE),
    th.Property("numberOfParts", th.IntegerType),
    th.Property("numberOfRelevantParts", th.IntegerType),
    th.Property("assigneeName", th.StringType),
    th.Property("waitsToBeFiltered", th.BooleanType),
)

ENDUSER = _model(
    th.Property("email", th.StringType),
    th.Property("firstName", th.StringType),
    th.Property("lastName", th.StringType),
    th.Property("name", th.StringType),
    th.Property("companyId", ID),
    th.Property("companyName", th.StringType),
    th.Property("externalId", th.StringType),
    th.Property("sourceId", th.StringType),
    th.Property("position", th.StringType),
    th.Property("phone", th.StringType),
    _strings("tags"),
    th.Property("featured", th.BooleanType),
    th.Property("primary", th.BooleanType),
    th.Property("archived", th.BooleanType),
    _strings("otherEmails"),
    th.Property("nps", th.NumberType),
    th.Property("npsComment", th.StringType),
    th.Property("npsDate", TIMESTAMP),
    th.Property("npsSent", TIMESTAMP),
    th.Property("lastTouch", TIMESTAMP),
    th.Property("lastTouchByType", th.ObjectType(additional_properties=True)),
    th.Property("lastActivities", ANY_VALUE),
    th.Property("beats", th.NumberType),
    th.Property("beatTrend", th.NumberType),
    th.Property("convs14", th.NumberType),
    th.Property("convsTotal", th.NumberType),
    th.Property("relevance", th.NumberType),
    th.Property("usage", th.ObjectType(additional_properties=True)),
    th.Property("createDate", TIMESTAMP),
)

NPS = _model(
    th.Property("cId", ID, description="The company (NPS links companies by cId)."),
    th.Property("euId", ID, description="The end user who answered."),
    th.Property("email", th.StringType),
    th.Property("score", th.IntegerType, description="0 to 10."),
    th.Property("comment", th.StringType),
    th.Property("dateSent", TIMESTAMP),
    th.Property("dateAnswered", TIMESTAMP),
    th.Property("source", th.StringType),
    th.Property("sourceId", th.StringType),
    th.Property("campaignId", ID),
)

PROJECT = _model(
    th.Property("name", th.StringType),
    th.Property("companyId", ID),
    th.Property("companyName", th.StringType),
    th.Property("externalId", th.StringType),
    th.Property("sourceId", th.StringType),
    th.Property("currency", th.StringType),
    th.Property("startDate", TIMESTAMP),
    th.Property("endDate", TIMESTAMP),
    th.Property("mrr", th.NumberType),
    th.Property("arr", th.NumberType),
    th.Property("nrr", th.NumberType),
)

ASSET = _model(
    th.Property("companyId", ID),
    th.Property("companyName", th.StringType),
    th.Property("externalId", th.StringType),
    th.Property("sourceId", th.StringType),
    th.Property("name", th.StringType),
    th.Property("serialNumber", th.StringType),
    th.Property("value", th.NumberType),
    th.Property("_currency", th.StringType),
    th.Property("installDate", TIMESTAMP),
    th.Property("status", th.StringType),
    th.Property("ownerId", ID),
    th.Property("ownerName", th.StringType),
    th.Property("followers", th.ArrayType(th.AnyType())),
)

USER = _model(
    th.Property("email", th.StringType),
    th.Property("nickName", th.StringType),
    th.Property("firstName", th.StringType),
    th.Property("lastName", th.StringType),
    th.Property("inactive", th.BooleanType),
    th.Property("roles", th.ArrayType(th.AnyType())),
)

LICENSE = _model(
    th.Property("companyId", ID),
    th.Property("companyName", th.StringType),
    th.Property("externalId", th.StringType),
    th.Property("sourceId", th.StringType),
    th.Property("product", th.StringType),
    th.Property("_currency", th.StringType),
    th.Property("fromDate", TIMESTAMP),
    th.Property("toDate", TIMESTAMP),
    th.Property("fixedPeriod", th.BooleanType, description="False for open-ended licenses."),
    th.Property("mrr", th.NumberType),
    th.Property("arr", th.NumberType),
    th.Property("value", th.NumberType),
    th.Property("renewalStatus", th.StringType),
    th.Property("renewalDate", TIMESTAMP),
    th.Property("autoRenews", th.BooleanType),
)

OPPORTUNITY = _model(
    th.Property("companyId", ID),
    th.Property("companyName", th.StringType),
    th.Property("title", th.StringType),
    th.Property("status", th.StringType),
    th.Property("salesStage", th.StringType),
    th.Property("dealDate", TIMESTAMP),
    th.Property("closeDate", TIMESTAMP),
    th.Property("landingDate", TIMESTAMP),
    th.Property("mrr", th.NumberType),
    th.Property("arr", th.NumberType),
    th.Property("probability", th.NumberType),
    th.Property("externalId", th.StringType),
    th.Property("sourceId", th.StringType),
)

CHURN = _model(
    th.Property("companyId", ID),
    th.Property("companyName", th.StringType),
    th.Property("churnDate", TIMESTAMP),
    _strings("reasons"),
    th.Property("value", th.NumberType),
    th.Property("arr", th.NumberType),
)

INVOICE = _model(
    th.Property("cId", ID, description="The company (invoices link companies by cId)."),
    th.Property("cName", th.StringType),
    th.Property("extId", th.StringType),
    th.Property("sourceId", th.StringType),
    th.Property("invoiceNo", th.IntegerType),
    th.Property("product", th.StringType),
    th.Property("currency", th.StringType),
    th.Property("invoiceDate", TIMESTAMP, description="Sent as days since 1970."),
    th.Property("dueDate", TIMESTAMP, description="Sent as days since 1970."),
    th.Property("paidDate", TIMESTAMP, description="Sent as days since 1970."),
    th.Property("amountTotal", th.NumberType),
    th.Property("status", th.StringType, description="pending, paid or overdue."),
    th.Property("lineItems", th.ArrayType(th.AnyType())),
    th.Property("lastUpdated", TIMESTAMP, description="Replication key of invoices."),
)

ISSUE = _model(
    th.Property("title", th.StringType),
    th.Property("description", th.StringType),
    _strings("companyIds"),
    th.Property("companies", th.ArrayType(th.AnyType())),
    _strings("enduserIds"),
    th.Property("endusers", th.ArrayType(th.AnyType())),
    _strings("conversationIds"),
    th.Property("source", th.StringType),
    th.Property("sourceId", th.StringType),
    th.Property("sourceUrl", th.StringType),
    th.Property("priority", th.StringType),
    th.Property("status", th.StringType),
    th.Property("archived", th.BooleanType),
    th.Property("mrrCombined", th.NumberType),
    th.Property("arrCombined", th.NumberType),
    _strings("followers"),
)

TASK = _model(
    th.Property("companyId", ID),
    th.Property("companyName", th.StringType),
    th.Property("mainType", th.StringType, description="task, or event (a calendar entry)."),
    th.Property("type", th.StringType),
    th.Property("action", th.StringType, description="The task's title."),
    th.Property("description", th.StringType, description="HTML body."),
    th.Property("snippet", th.StringType),
    th.Property("status", th.StringType),
    th.Property("startTime", TIMESTAMP),
    th.Property("endTime", TIMESTAMP),
    th.Property("dateDone", TIMESTAMP),
    th.Property("noSpecificTime", th.BooleanType),
    th.Property("repeat", th.StringType),
    th.Property("ownerId", ID),
    th.Property("ownerName", th.StringType),
    th.Property("isArchived", th.BooleanType, description="Completed tasks are archived."),
    th.Property("sourceId", th.StringType),
)

TICKET = _model(
    th.Property("companyId", ID),
    th.Property("companyName", th.StringType),
    th.Property("email", th.StringType),
    th.Property("subject", th.StringType),
    th.Property("description", th.StringType, description="HTML body."),
    th.Property("snippet", th.StringType),
    th.Property("status", th.StringType),
    th.Property("type", th.StringType),
    th.Property("externalId", th.StringType),
    th.Property("createDate", TIMESTAMP),
    th.Property("updateDate", TIMESTAMP, description="Replication key of tickets."),
)

OBJECTIVE = _model(
    th.Property("companyId", ID),
    th.Property("companyName", th.StringType),
    th.Property("name", th.StringType),
    th.Property("description", th.StringType),
    th.Property("health", th.NumberType),
    th.Property("status", th.StringType),
    th.Property("ownerId", ID),
    th.Property("startDate", TIMESTAMP),
    th.Property("endDate", TIMESTAMP),
)

SALE = _model(
    th.Property("companyId", ID),
    th.Property("companyName", th.StringType),
    th.Property("product", th.StringType),
    th.Property("value", th.NumberType),
    th.Property("_currency", th.StringType),
    th.Property("salesDate", TIMESTAMP),
    th.Property("externalId", th.StringType),
    th.Property("sourceId", th.StringType),
)

WORKFLOW = _model(
    th.Property("companyId", ID),
    th.Property("companyName", th.StringType),
    th.Property("name", th.StringType),
    th.Property("templateId", ID),
    th.Property("ownerId", ID),
    th.Property("isArchived", th.BooleanType),
    th.Property("archiveDate", TIMESTAMP),
)

WORKSPACE = _model(
    th.Property("companyId", ID),
    th.Property("companyName", th.StringType),
    th.Property("name", th.StringType),
    th.Property("externalId", th.StringType),
    th.Property("sourceId", th.StringType),
)

CUSTOM_FIELD = _model(
    th.Property("name", th.StringType, description="The display name records use as a key."),
    th.Property("type", th.StringType, description="text, number, date, list, checkbox..."),
    th.Property("parent", th.StringType, description="The model the field belongs to."),
    th.Property("isHidden", th.BooleanType),
    th.Property("listValues", ANY_VALUE, description="The choices of a list field."),
)
