/*-------------------------------------------------------------------------
 *
 * json.c
 *		Stripe-shaped JSON objects (SPEC 6), built with jansson.
 *
 * This is the only file that includes jansson.  jansson stays on malloc:
 * every json_t built here hangs off one root, and the root is released in
 * PG_FINALLY whatever happens while it is filled (an SPI error, an
 * out-of-memory report).  Amounts are JSON integers, timestamps Unix seconds.
 *
 *-------------------------------------------------------------------------
 */
#include "postgres.h"

#include <jansson.h>

#include "fmgr.h"
#include "miscadmin.h"
#include "catalog/pg_type.h"
#include "utils/array.h"
#include "utils/numeric.h"
#include "utils/jsonb.h"
#include "utils/lsyscache.h"

#include "invoicing.h"

#define PAYMENTS_PAGE 10
#define STRIPE_API_VERSION "2025-05-28.basil"
#define METADATA_MAX_DEPTH 64

/*
 * Reads see the calling statement's snapshot (read_only) except when a
 * function renders what it has just written: then they take a fresh one.
 */
static bool read_only = true;

/*
 * jset
 *		Set a key; a NULL value means jansson ran out of memory.  Keys are
 *		this file's constants or come from a jsonb value, so they are valid
 *		in the server encoding already: jansson's UTF-8 check is skipped.
 */
static void
jset(json_t *obj, const char *key, json_t *value)
{
	if (value == NULL || json_object_set_new_nocheck(obj, key, value) != 0)
		ereport(ERROR,
				(errcode(ERRCODE_OUT_OF_MEMORY),
				 errmsg("out of memory while building JSON")));
}

static json_t *
jnew_object(void)
{
	json_t	   *o = json_object();

	if (o == NULL)
		ereport(ERROR,
				(errcode(ERRCODE_OUT_OF_MEMORY),
				 errmsg("out of memory while building JSON")));
	return o;
}

/* Column readers producing JSON values (null where the column is null). */

static json_t *
jtext(Row *row, const char *col)
{
	char	   *s = row_text(row, col);

	return s ? json_string(s) : json_null();
}

static json_t *
jenum(Row *row, const char *col)
{
	char	   *s = row_enum(row, col);

	return s ? json_string(s) : json_null();
}

static json_t *
jint(Row *row, const char *col)
{
	if (row_isnull(row, col))
		return json_null();
	return json_integer((json_int_t) row_int64(row, col));
}

static json_t *
jtime(Row *row, const char *col)
{
	if (row_isnull(row, col))
		return json_null();
	return json_integer((json_int_t) unix_seconds(DatumGetTimestampTz(row_get(row, col))));
}

/*
 * jattach
 *		Put a value under its parent: a key of an object, the next element of
 *		an array.  The parent owns it from then on.
 */
static void
jattach(json_t *parent, const char *key, json_t *value)
{
	if (json_is_object(parent))
		jset(parent, key, value);
	else if (value == NULL || json_array_append_new(parent, value) != 0)
		ereport(ERROR,
				(errcode(ERRCODE_OUT_OF_MEMORY),
				 errmsg("out of memory while building JSON")));
}

/*
 * jscalar
 *		A jsonb scalar as a JSON value.  Integral numbers that fit stay
 *		integers; other numbers become reals.
 */
static json_t *
jscalar(JsonbValue *v)
{
	switch (v->type)
	{
		case jbvNull:
			return json_null();
		case jbvBool:
			return json_boolean(v->val.boolean);
		case jbvString:
			return json_stringn(v->val.string.val, v->val.string.len);
		case jbvNumeric:
			{
				Oid			outfunc;
				bool		isvarlena;
				char	   *str;
				char	   *end;
				long long	ll;

				getTypeOutputInfo(NUMERICOID, &outfunc, &isvarlena);
				str = OidOutputFunctionCall(outfunc, NumericGetDatum(v->val.numeric));
				errno = 0;
				ll = strtoll(str, &end, 10);
				if (errno == 0 && *end == '\0')
					return json_integer((json_int_t) ll);
				return json_real(strtod(str, NULL));
			}
		default:
			elog(ERROR, "invoicing: unexpected jsonb value type %d", (int) v->type);
	}
	return NULL;				/* keep compiler quiet */
}

/*
 * jmetadata
 *		Put a jsonb column under parent[key] as JSON ({} when null).  The
 *		tree is attached as it is built, so an error cannot leak any of it.
 */
static void
jmetadata(json_t *parent, const char *key, Row *row, const char *col)
{
	Jsonb	   *jb;
	JsonbIterator *it;
	JsonbValue	v;
	JsonbIteratorToken tok;
	json_t	   *stack[METADATA_MAX_DEPTH];
	int			depth = -1;
	char	   *pending = NULL;

	if (row_isnull(row, col))
	{
		jset(parent, key, json_object());
		return;
	}
	jb = DatumGetJsonbP(row_get(row, col));
	it = JsonbIteratorInit(&jb->root);
	while ((tok = JsonbIteratorNext(&it, &v, false)) != WJB_DONE)
	{
		json_t	   *target = depth < 0 ? parent : stack[depth];
		const char *k = depth < 0 ? key : pending;

		switch (tok)
		{
			case WJB_BEGIN_OBJECT:
			case WJB_BEGIN_ARRAY:
				{
					json_t	   *c;

					if (tok == WJB_BEGIN_ARRAY && v.val.array.rawScalar)
						break;
					if (depth + 1 >= METADATA_MAX_DEPTH)
						ereport(ERROR,
								(errcode(ERRCODE_PROGRAM_LIMIT_EXCEEDED),
								 errmsg("metadata is nested too deeply")));
					c = tok == WJB_BEGIN_OBJECT ? json_object() : json_array();
					jattach(target, k, c);
					stack[++depth] = c;
					break;
				}
			case WJB_KEY:
				pending = pnstrdup(v.val.string.val, v.val.string.len);
				break;
			case WJB_VALUE:
			case WJB_ELEM:
				jattach(target, k, jscalar(&v));
				break;
			case WJB_END_OBJECT:
			case WJB_END_ARRAY:
				if (depth >= 0)
					depth--;
				break;
			default:
				break;
		}
	}
}

/* declared here: utils/builtins.h clashes with jansson */
extern Datum float8_numeric(PG_FUNCTION_ARGS);

/* A key of an object being converted, with its value. */
typedef struct JsonKey
{
	const char *key;
	size_t		len;
	json_t	   *member;
} JsonKey;

/*
 * sort_keys
 *		Put an object's keys in jsonb's order (shorter first, then bytewise),
 *		the order in which jsonb stores an object's pairs.  Insertion sort:
 *		objects have a few dozen keys at most.
 */
static void
sort_keys(JsonKey *keys, size_t n)
{
	size_t		i;

	for (i = 1; i < n; i++)
	{
		JsonKey		k = keys[i];
		size_t		j = i;

		while (j > 0 &&
			   (keys[j - 1].len > k.len ||
				(keys[j - 1].len == k.len && memcmp(keys[j - 1].key, k.key, k.len) > 0)))
		{
			keys[j] = keys[j - 1];
			j--;
		}
		keys[j] = k;
	}
}

/*
 * to_jsonb_value
 *		Convert a jansson value into the in-memory jsonb tree that
 *		JsonbValueToJsonb serializes: objects with their pairs in jsonb's
 *		order (jansson's keys are unique), arrays, scalars.  Strings and keys
 *		point into the jansson tree, which must outlive the serialization.
 *		Built directly rather than through pushJsonbValue, which copies every
 *		pair and sorts every object again.
 */
static void
to_jsonb_value(json_t *value, JsonbValue *out)
{
	check_stack_depth();
	switch (json_typeof(value))
	{
		case JSON_OBJECT:
			{
				size_t		n = json_object_size(value);
				JsonKey    *keys = palloc(sizeof(JsonKey) * Max(n, 1));
				JsonbPair  *pairs;
				const char *key;
				json_t	   *member;
				size_t		i = 0;

				json_object_foreach(value, key, member)
				{
					keys[i].key = key;
					keys[i].len = strlen(key);
					keys[i].member = member;
					i++;
				}
				n = i;
				sort_keys(keys, n);
				pairs = palloc(sizeof(JsonbPair) * Max(n, 1));
				for (i = 0; i < n; i++)
				{
					pairs[i].key.type = jbvString;
					pairs[i].key.val.string.val = (char *) keys[i].key;
					pairs[i].key.val.string.len = (int) keys[i].len;
					pairs[i].order = (uint32) i;
					to_jsonb_value(keys[i].member, &pairs[i].value);
				}
				pfree(keys);
				out->type = jbvObject;
				out->val.object.nPairs = (int) n;
				out->val.object.pairs = pairs;
				break;
			}
		case JSON_ARRAY:
			{
				size_t		n = json_array_size(value);
				JsonbValue *elems = palloc(sizeof(JsonbValue) * Max(n, 1));
				size_t		i;
				json_t	   *elem;

				json_array_foreach(value, i, elem)
					to_jsonb_value(elem, &elems[i]);
				out->type = jbvArray;
				out->val.array.nElems = (int) n;
				out->val.array.elems = elems;
				out->val.array.rawScalar = false;
				break;
			}
		case JSON_STRING:
			out->type = jbvString;
			out->val.string.val = (char *) json_string_value(value);
			out->val.string.len = (int) json_string_length(value);
			break;
		case JSON_INTEGER:
			out->type = jbvNumeric;
			out->val.numeric = int64_to_numeric(json_integer_value(value));
			break;
		case JSON_REAL:
			out->type = jbvNumeric;
			out->val.numeric = DatumGetNumeric(DirectFunctionCall1(float8_numeric,
																   Float8GetDatum(json_real_value(value))));
			break;
		case JSON_TRUE:
		case JSON_FALSE:
			out->type = jbvBool;
			out->val.boolean = json_is_true(value);
			break;
		case JSON_NULL:
			out->type = jbvNull;
			break;
	}
}

/*
 * render_jsonb
 *		A jansson object as jsonb.
 */
static Datum
render_jsonb(json_t *root)
{
	JsonbValue	tree;

	if (!json_is_object(root))
		elog(ERROR, "invoicing: a rendered object must be a JSON object");
	to_jsonb_value(root, &tree);
	return JsonbPGetDatum(JsonbValueToJsonb(&tree));
}

/* Objects by id, through the primary key */
#define BY_ID(table) {table, NULL, "id", {NULL}, \
	"SELECT * FROM " INV_SCHEMA "." table " WHERE id" EQ "$1 LIMIT $2", NULL}
static KeyRead by_id_invoices = BY_ID("invoices");
static KeyRead by_id_invoice_payments = BY_ID("invoice_payments");
static KeyRead by_id_payment_intents = BY_ID("payment_intents");
static KeyRead by_id_balance_transactions = BY_ID("customer_balance_transactions");
static KeyRead by_id_credit_notes = BY_ID("credit_notes");

/*
 * fetch_row
 *		The row of an object by id (P0002 when missing).  Caller is
 *		connected to SPI.
 */
static Row *
fetch_row(KeyRead *kr, const char *object, const char *id)
{
	Row		   *row = read_one(kr, id, !read_only);

	if (row == NULL)
		ereport(ERROR,
				(errcode(ERRCODE_NO_DATA_FOUND),
				 errmsg("no such %s: \"%s\"", object, id)));
	return row;
}

/*
 * fill_invoice_payment
 *		The invoice_payment object.
 */
static void
fill_invoice_payment(json_t *o, Row *p)
{
	json_t	   *payment = jnew_object();
	json_t	   *transitions;
	char	   *type = row_enum(p, "payment_type");

	jset(o, "id", jtext(p, "id"));
	jset(o, "object", json_string("invoice_payment"));
	jset(o, "amount_paid", jint(p, "amount_paid"));
	jset(o, "amount_requested", jint(p, "amount_requested"));
	jset(o, "created", jtime(p, "created"));
	jset(o, "currency", jtext(p, "currency"));
	jset(o, "invoice", jtext(p, "invoice"));
	jset(o, "is_default", json_boolean(DatumGetBool(row_get(p, "is_default"))));
	jset(o, "livemode", json_false());
	jset(o, "payment", payment);
	jset(payment, "type", json_string(type));
	if (strcmp(type, "payment_intent") == 0)
		jset(payment, "payment_intent", jtext(p, "payment_intent"));
	else
		jset(payment, "payment_record", jtext(p, "payment_record"));
	jset(o, "status", jenum(p, "status"));
	transitions = jnew_object();
	jset(o, "status_transitions", transitions);
	jset(transitions, "canceled_at", jtime(p, "canceled_at"));
	jset(transitions, "paid_at", jtime(p, "paid_at"));
}

/*
 * fill_payments_list
 *		The invoice's payments as a Stripe list: the newest page, newest
 *		first, and whether there are more.
 */
static void
fill_payments_list(json_t *list, const char *invoice)
{
	static KeyRead page = {"invoice_payments", "invoice_payments_newest",
		"invoice", {"created", "seq", NULL},
		"SELECT * FROM " INV_SCHEMA ".invoice_payments WHERE invoice" EQ "$1"
	" ORDER BY created DESC, seq DESC LIMIT $2", NULL};
	json_t	   *data = json_array();
	Row		  **rows;
	int			n;
	int			i;

	if (data == NULL)
		ereport(ERROR,
				(errcode(ERRCODE_OUT_OF_MEMORY),
				 errmsg("out of memory while building JSON")));
	jset(list, "object", json_string("list"));
	jset(list, "data", data);

	/* newest first: the index is on (invoice, created DESC, seq DESC) */
	n = read_by_key(&page, text_datum(invoice), PAYMENTS_PAGE + 1, !read_only, &rows);
	for (i = 0; i < n && i < PAYMENTS_PAGE; i++)
	{
		json_t	   *o = jnew_object();

		if (json_array_append_new(data, o) != 0)
			ereport(ERROR,
					(errcode(ERRCODE_OUT_OF_MEMORY),
					 errmsg("out of memory while building JSON")));
		fill_invoice_payment(o, rows[i]);
	}
	jset(list, "has_more", json_boolean(n > PAYMENTS_PAGE));
	jset(list, "url", json_string(psprintf("/v1/invoices/%s/payments", invoice)));
}

/*
 * fill_invoice
 *		The invoice object; with expand_payments, its payments list too.
 */
static void
fill_invoice(json_t *o, Row *inv, bool expand_payments)
{
	json_t	   *transitions = jnew_object();

	jset(o, "id", jtext(inv, "id"));
	jset(o, "object", json_string("invoice"));
	jset(o, "amount_due", jint(inv, "amount_due"));
	jset(o, "amount_overpaid", jint(inv, "amount_overpaid"));
	jset(o, "amount_paid", jint(inv, "amount_paid"));
	jset(o, "amount_remaining", jint(inv, "amount_remaining"));
	jset(o, "collection_method", jenum(inv, "collection_method"));
	jset(o, "created", jtime(inv, "created"));
	jset(o, "currency", jtext(inv, "currency"));
	jset(o, "customer", jtext(inv, "customer"));
	jset(o, "description", jtext(inv, "description"));
	jset(o, "ending_balance", jint(inv, "ending_balance"));
	jset(o, "livemode", json_false());
	jmetadata(o, "metadata", inv, "metadata");
	jset(o, "number", jtext(inv, "number"));
	if (expand_payments)
	{
		json_t	   *list = jnew_object();

		jset(o, "payments", list);
		fill_payments_list(list, row_text(inv, "id"));
	}
	jset(o, "post_payment_credit_notes_amount", jint(inv, "post_payment_credit_notes_amount"));
	jset(o, "pre_payment_credit_notes_amount", jint(inv, "pre_payment_credit_notes_amount"));
	jset(o, "starting_balance", jint(inv, "starting_balance"));
	jset(o, "status", jenum(inv, "status"));
	jset(o, "status_transitions", transitions);
	jset(transitions, "finalized_at", jtime(inv, "finalized_at"));
	jset(transitions, "marked_uncollectible_at", jtime(inv, "marked_uncollectible_at"));
	jset(transitions, "paid_at", jtime(inv, "paid_at"));
	jset(transitions, "voided_at", jtime(inv, "voided_at"));
	jset(o, "subtotal", jint(inv, "subtotal"));
	jset(o, "total", jint(inv, "total"));
}

/*
 * fill_payment_intent
 */
static void
fill_payment_intent(json_t *o, Row *pi)
{
	jset(o, "id", jtext(pi, "id"));
	jset(o, "object", json_string("payment_intent"));
	jset(o, "amount", jint(pi, "amount"));
	jset(o, "amount_received", jint(pi, "amount_received"));
	jset(o, "created", jtime(pi, "created"));
	jset(o, "currency", jtext(pi, "currency"));
	jset(o, "customer", jtext(pi, "customer"));
	jset(o, "livemode", json_false());
	jmetadata(o, "metadata", pi, "metadata");
	jset(o, "status", jenum(pi, "status"));
}

/*
 * fill_balance_transaction
 */
static void
fill_balance_transaction(json_t *o, Row *t)
{
	jset(o, "id", jtext(t, "id"));
	jset(o, "object", json_string("customer_balance_transaction"));
	jset(o, "amount", jint(t, "amount"));
	jset(o, "created", jtime(t, "created"));
	jset(o, "credit_note", jtext(t, "credit_note"));
	jset(o, "currency", jtext(t, "currency"));
	jset(o, "customer", jtext(t, "customer"));
	jset(o, "description", jtext(t, "description"));
	jset(o, "ending_balance", jint(t, "ending_balance"));
	jset(o, "invoice", jtext(t, "invoice"));
	jset(o, "livemode", json_false());
	jmetadata(o, "metadata", t, "metadata");
	jset(o, "type", jenum(t, "type"));
}

/*
 * fill_credit_note
 *		The credit_note object, from a stored note or a preview.
 */
static void
fill_credit_note(json_t *o, CreditNoteView *v)
{
	json_t	   *refunds = json_array();
	int			i;

	jset(o, "id", json_string(v->id));
	jset(o, "object", json_string("credit_note"));
	jset(o, "amount", json_integer(v->alloc.amount));
	jset(o, "created", json_integer(unix_seconds(v->created)));
	jset(o, "currency", json_string(v->currency));
	jset(o, "customer", json_string(v->customer));
	jset(o, "customer_balance_transaction",
		 v->customer_balance_transaction ? json_string(v->customer_balance_transaction) : json_null());
	jset(o, "invoice", json_string(v->invoice));
	jset(o, "livemode", json_false());
	jset(o, "memo", v->memo ? json_string(v->memo) : json_null());
	if (v->row)
		jmetadata(o, "metadata", v->row, "metadata");
	else
		jset(o, "metadata", json_object());
	jset(o, "number", json_string(v->number));
	jset(o, "out_of_band_amount", json_integer(v->alloc.out_of_band_amount));
	jset(o, "post_payment_amount", json_integer(v->alloc.post_payment_amount));
	jset(o, "pre_payment_amount", json_integer(v->alloc.pre_payment_amount));
	jset(o, "reason", v->reason ? json_string(v->reason) : json_null());
	jset(o, "refunds", refunds);
	for (i = 0; i < v->alloc.nrefunds; i++)
	{
		json_t	   *r = jnew_object();

		jattach(refunds, NULL, r);
		jset(r, "amount_refunded", json_integer(v->alloc.refunds[i].amount));
		jset(r, "refund", v->alloc.refunds[i].refund ?
			 json_string(v->alloc.refunds[i].refund) : json_null());
	}
	jset(o, "status", json_string(v->status));
	jset(o, "subtotal", json_integer(v->alloc.amount));
	jset(o, "total", json_integer(v->alloc.amount));
	jset(o, "type", json_string(v->alloc.type));
	jset(o, "voided_at", v->has_voided_at ? json_integer(unix_seconds(v->voided_at)) : json_null());
}

/*
 * credit_note_view
 *		A stored credit note and its refunds, as a view.
 */
static CreditNoteView *
credit_note_view(Row *cn, CreditNoteAlloc *fresh)
{
	static SPIPlanPtr plan = NULL;
	Oid			argtypes[1] = {TEXTOID};
	Datum		values[1];
	CreditNoteView *v = palloc0(sizeof(CreditNoteView));
	int			i;

	v->row = cn;
	v->id = row_text(cn, "id");
	v->invoice = row_text(cn, "invoice");
	v->customer = row_text(cn, "customer");
	v->currency = row_text(cn, "currency");
	v->number = row_text(cn, "number");
	v->memo = row_text(cn, "memo");
	v->reason = row_enum(cn, "reason");
	v->status = row_enum(cn, "status");
	v->customer_balance_transaction = row_text(cn, "customer_balance_transaction");
	v->created = DatumGetTimestampTz(row_get(cn, "created"));
	v->has_voided_at = !row_isnull(cn, "voided_at");
	if (v->has_voided_at)
		v->voided_at = DatumGetTimestampTz(row_get(cn, "voided_at"));
	v->alloc.amount = row_int64(cn, "amount");
	v->alloc.refund_amount = row_int64(cn, "refund_amount");
	v->alloc.credit_amount = row_int64(cn, "credit_amount");
	v->alloc.out_of_band_amount = row_int64(cn, "out_of_band_amount");
	v->alloc.pre_payment_amount = row_int64(cn, "pre_payment_amount");
	v->alloc.post_payment_amount = row_int64(cn, "post_payment_amount");
	v->alloc.type = row_enum(cn, "type");
	if (fresh != NULL)
	{
		/* a note being created: its refunds are the allocation's */
		v->alloc.nrefunds = fresh->nrefunds;
		v->alloc.refunds = fresh->refunds;
		return v;
	}

	inv_prepare(&plan,
				"SELECT id, amount FROM " INV_SCHEMA ".refunds WHERE credit_note" EQ "$1"
				" ORDER BY seq",
				1, argtypes);
	values[0] = text_datum(v->id);
	inv_exec(plan, values, NULL, read_only, 0);
	v->alloc.nrefunds = (int) SPI_processed;
	v->alloc.refunds = palloc0(sizeof(RefundShare) * (SPI_processed + 1));
	for (i = 0; i < v->alloc.nrefunds; i++)
	{
		Row		   *r = spi_row(i);

		v->alloc.refunds[i].refund = row_text(r, "id");
		v->alloc.refunds[i].amount = row_int64(r, "amount");
	}
	return v;
}

/*
 * object_jsonb
 *		Read one object by id and render it as jsonb.  The jansson tree is
 *		freed on every path.
 */
Datum
object_jsonb(ObjectKind kind, const char *id, bool after_write)
{
	json_t	   *volatile root = NULL;
	volatile Datum result = (Datum) 0;

	inv_connect();
	read_only = !after_write;
	PG_TRY();
	{
		Row		   *row;

		root = jnew_object();
		switch (kind)
		{
			case OBJ_INVOICE:
			case OBJ_INVOICE_EXPANDED:
				row = fetch_row(&by_id_invoices, "invoice", id);
				fill_invoice(root, row, kind == OBJ_INVOICE_EXPANDED);
				break;
			case OBJ_INVOICE_PAYMENT:
				row = fetch_row(&by_id_invoice_payments, "invoice payment", id);
				fill_invoice_payment(root, row);
				break;
			case OBJ_PAYMENT_INTENT:
				row = fetch_row(&by_id_payment_intents, "payment_intent", id);
				fill_payment_intent(root, row);
				break;
			case OBJ_BALANCE_TRANSACTION:
				row = fetch_row(&by_id_balance_transactions,
								"customer balance transaction", id);
				fill_balance_transaction(root, row);
				break;
			case OBJ_CREDIT_NOTE:
				row = fetch_row(&by_id_credit_notes, "credit note", id);
				fill_credit_note(root, credit_note_view(row, NULL));
				break;
		}
		result = render_jsonb(root);
	}
	PG_FINALLY();
	{
		read_only = true;
		if (root != NULL)
			json_decref(root);
	}
	PG_END_TRY();
	inv_finish();
	return result;
}

/*
 * row_jsonb
 *		An object already in hand (a row a statement returned) as jsonb:
 *		payment intents, invoice payments, balance transactions and plain
 *		invoices need nothing more than their row.
 */
Datum
row_jsonb(ObjectKind kind, Row *row)
{
	json_t	   *volatile root = NULL;
	volatile Datum result = (Datum) 0;

	PG_TRY();
	{
		root = jnew_object();
		switch (kind)
		{
			case OBJ_INVOICE:
				fill_invoice(root, row, false);
				break;
			case OBJ_INVOICE_PAYMENT:
				fill_invoice_payment(root, row);
				break;
			case OBJ_PAYMENT_INTENT:
				fill_payment_intent(root, row);
				break;
			case OBJ_BALANCE_TRANSACTION:
				fill_balance_transaction(root, row);
				break;
			default:
				elog(ERROR, "invoicing: cannot render object kind %d from its row", (int) kind);
		}
		result = render_jsonb(root);
	}
	PG_FINALLY();
	{
		if (root != NULL)
			json_decref(root);
	}
	PG_END_TRY();
	return result;
}

/*
 * credit_note_view_jsonb
 *		A credit note view (a preview) as jsonb.
 */
Datum
credit_note_view_jsonb(CreditNoteView *view)
{
	json_t	   *volatile root = NULL;
	volatile Datum result = (Datum) 0;

	PG_TRY();
	{
		root = jnew_object();
		fill_credit_note(root, view);
		result = render_jsonb(root);
	}
	PG_FINALLY();
	{
		if (root != NULL)
			json_decref(root);
	}
	PG_END_TRY();
	return result;
}

/*
 * invoice_jsonb
 *		The invoice object, for the other modules' functions.
 */
Datum
invoice_jsonb(const char *invoice, bool expand_payments, bool after_write)
{
	return object_jsonb(expand_payments ? OBJ_INVOICE_EXPANDED : OBJ_INVOICE, invoice,
						after_write);
}

/*
 * wants_payments
 *		Read the expand[] argument: it may hold "payments" only.
 */
static bool
wants_payments(ArrayType *expand)
{
	Datum	   *elems;
	bool	   *nulls;
	int			n;
	int			i;
	bool		payments = false;

	deconstruct_array(expand, TEXTOID, -1, false, TYPALIGN_INT, &elems, &nulls, &n);
	for (i = 0; i < n; i++)
	{
		char	   *e;

		if (nulls[i])
			ereport(ERROR,
					(errcode(ERRCODE_NULL_VALUE_NOT_ALLOWED),
					 errmsg("expand must not contain nulls")));
		e = text_datum_cstring(elems[i]);
		if (strcmp(e, "payments") != 0)
			ereport(ERROR,
					(errcode(ERRCODE_INVALID_PARAMETER_VALUE),
					 errmsg("cannot expand \"%s\" on an invoice", e),
					 errhint("expand may hold \"payments\".")));
		payments = true;
	}
	return payments;
}

PG_FUNCTION_INFO_V1(invoicing_invoice_json);

/*
 * invoicing.invoice_json(invoice text, expand text[] DEFAULT '{}') returns jsonb
 */
Datum
invoicing_invoice_json(PG_FUNCTION_ARGS)
{
	bool		payments;

	require_arg(fcinfo, 0, "invoice");
	require_arg(fcinfo, 1, "expand");
	payments = wants_payments(PG_GETARG_ARRAYTYPE_P(1));
	PG_RETURN_DATUM(invoice_jsonb(text_datum_cstring(PG_GETARG_DATUM(0)), payments, false));
}

PG_FUNCTION_INFO_V1(invoicing_invoice_payment_json);

/*
 * invoicing.invoice_payment_json(id text) returns jsonb
 */
Datum
invoicing_invoice_payment_json(PG_FUNCTION_ARGS)
{
	require_arg(fcinfo, 0, "id");
	PG_RETURN_DATUM(object_jsonb(OBJ_INVOICE_PAYMENT, text_datum_cstring(PG_GETARG_DATUM(0)), false));
}

PG_FUNCTION_INFO_V1(invoicing_payment_intent_json);

/*
 * invoicing.payment_intent_json(id text) returns jsonb
 */
Datum
invoicing_payment_intent_json(PG_FUNCTION_ARGS)
{
	require_arg(fcinfo, 0, "id");
	PG_RETURN_DATUM(object_jsonb(OBJ_PAYMENT_INTENT, text_datum_cstring(PG_GETARG_DATUM(0)), false));
}

PG_FUNCTION_INFO_V1(invoicing_customer_balance_transaction_json);

/*
 * invoicing.customer_balance_transaction_json(id text) returns jsonb
 */
Datum
invoicing_customer_balance_transaction_json(PG_FUNCTION_ARGS)
{
	require_arg(fcinfo, 0, "id");
	PG_RETURN_DATUM(object_jsonb(OBJ_BALANCE_TRANSACTION, text_datum_cstring(PG_GETARG_DATUM(0)), false));
}

PG_FUNCTION_INFO_V1(invoicing_credit_note_json);

/*
 * invoicing.credit_note_json(id text) returns jsonb
 */
Datum
invoicing_credit_note_json(PG_FUNCTION_ARGS)
{
	require_arg(fcinfo, 0, "id");
	PG_RETURN_DATUM(object_jsonb(OBJ_CREDIT_NOTE, text_datum_cstring(PG_GETARG_DATUM(0)), false));
}

/* The invoice columns fill_invoice() shows (payments aside). */
static const char *const invoice_json_columns[] = {
	"id", "amount_due", "amount_overpaid", "amount_paid", "amount_remaining",
	"collection_method", "created", "currency", "customer", "description",
	"ending_balance", "metadata", "number", "post_payment_credit_notes_amount",
	"pre_payment_credit_notes_amount", "starting_balance", "status",
	"finalized_at", "marked_uncollectible_at", "paid_at", "voided_at",
	"subtotal", "total", NULL
};

/*
 * invoice_json_changed
 *		Whether an update changed the invoice's JSON (not expanded): whether
 *		any column the JSON shows changed.  Bookkeeping columns (payment
 *		counters and the like) do not show.
 */
bool
invoice_json_changed(Row *oldrow, Row *newrow)
{
	const char *const *c;

	for (c = invoice_json_columns; *c != NULL; c++)
		if (!row_same(oldrow, newrow, *c))
			return true;
	return false;
}

/*
 * fill_previous_attributes
 *		The old values of the keys whose values changed.
 */
static void
fill_previous_attributes(json_t *prev, json_t *before, json_t *after)
{
	const char *key;
	json_t	   *value;

	json_object_foreach(after, key, value)
	{
		json_t	   *old = json_object_get(before, key);

		if (old == NULL)
			jset(prev, key, json_null());
		else if (!json_equal(old, value))
			jset(prev, key, json_deep_copy(old));
	}
}

/*
 * event_payload
 *		The whole Stripe event object for one event.
 */
Datum
event_payload(const char *id, const char *type, TimestampTz created, EventSource *src)
{
	json_t	   *volatile root = NULL;
	json_t	   *volatile before = NULL;
	volatile Datum result = (Datum) 0;

	inv_connect();
	PG_TRY();
	{
		json_t	   *data;
		json_t	   *object;
		json_t	   *request;

		root = jnew_object();
		jset(root, "id", json_string(id));
		jset(root, "object", json_string("event"));
		jset(root, "api_version", json_string(STRIPE_API_VERSION));
		jset(root, "created", json_integer(unix_seconds(created)));
		data = jnew_object();
		jset(root, "data", data);
		object = jnew_object();
		jset(data, "object", object);
		switch (src->kind)
		{
			case EVENT_INVOICE:
				fill_invoice(object, src->row, false);
				if (src->old != NULL)
				{
					json_t	   *prev = jnew_object();

					jset(data, "previous_attributes", prev);
					before = jnew_object();
					fill_invoice(before, src->old, false);
					fill_previous_attributes(prev, before, object);
				}
				break;
			case EVENT_INVOICE_PAYMENT:
				fill_invoice_payment(object, src->row);
				break;
			case EVENT_CREDIT_NOTE:
				fill_credit_note(object, credit_note_view(src->row, src->alloc));
				break;
		}
		jset(root, "livemode", json_false());
		jset(root, "pending_webhooks", json_integer(0));
		request = jnew_object();
		jset(root, "request", request);
		jset(request, "id", json_null());
		jset(request, "idempotency_key", json_null());
		jset(root, "type", json_string(type));
		result = render_jsonb(root);
	}
	PG_FINALLY();
	{
		if (root != NULL)
			json_decref(root);
		if (before != NULL)
			json_decref(before);
	}
	PG_END_TRY();
	inv_finish();
	return result;
}
