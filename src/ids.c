/*-------------------------------------------------------------------------
 *
 * ids.c
 *		Object identifiers, currencies and customers (SPEC 1).
 *
 * Ids are text with Stripe's prefixes.  Generated ids are the prefix plus 24
 * base-62 characters from pg_strong_random(); a supplied id must carry its
 * object's prefix and only letters, digits and underscores.  Currencies are
 * lower-case ISO 4217 codes.
 *
 *-------------------------------------------------------------------------
 */
#include "postgres.h"

#include "fmgr.h"
#include "utils/builtins.h"

#include "invoicing.h"

#define ID_RANDOM_CHARS 24
#define ID_MAX_LENGTH 255

static const char base62[] =
"0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz";

/* Active ISO 4217 codes, sorted, lower case. */
static const char *const iso4217[] = {
	"aed", "afn", "all", "amd", "ang", "aoa", "ars", "aud", "awg", "azn",
	"bam", "bbd", "bdt", "bgn", "bhd", "bif", "bmd", "bnd", "bob", "bov",
	"brl", "bsd", "btn", "bwp", "byn", "bzd", "cad", "cdf", "che", "chf",
	"chw", "clf", "clp", "cny", "cop", "cou", "crc", "cuc", "cup", "cve",
	"czk", "djf", "dkk", "dop", "dzd", "egp", "ern", "etb", "eur", "fjd",
	"fkp", "gbp", "gel", "ghs", "gip", "gmd", "gnf", "gtq", "gyd", "hkd",
	"hnl", "htg", "huf", "idr", "ils", "inr", "iqd", "irr", "isk", "jmd",
	"jod", "jpy", "kes", "kgs", "khr", "kmf", "kpw", "krw", "kwd", "kyd",
	"kzt", "lak", "lbp", "lkr", "lrd", "lsl", "lyd", "mad", "mdl", "mga",
	"mkd", "mmk", "mnt", "mop", "mru", "mur", "mvr", "mwk", "mxn", "mxv",
	"myr", "mzn", "nad", "ngn", "nio", "nok", "npr", "nzd", "omr", "pab",
	"pen", "pgk", "php", "pkr", "pln", "pyg", "qar", "ron", "rsd", "rub",
	"rwf", "sar", "sbd", "scr", "sdg", "sek", "sgd", "shp", "sle", "sll",
	"sos", "srd", "ssp", "stn", "svc", "syp", "szl", "thb", "tjs", "tmt",
	"tnd", "top", "try", "ttd", "twd", "tzs", "uah", "ugx", "usd", "usn",
	"uyi", "uyu", "uyw", "uzs", "ved", "ves", "vnd", "vuv", "wst", "xaf",
	"xag", "xau", "xba", "xbb", "xbc", "xbd", "xcd", "xcg", "xdr", "xof",
	"xpd", "xpf", "xpt", "xsu", "xts", "xua", "yer", "zar", "zmw", "zwg",
	"zwl"
};

/*
 * generate_id
 *		The prefix followed by 24 base-62 characters from a strong random
 *		source.  Bytes >= 248 are redrawn so every character is equally likely.
 */
char *
generate_id(const char *prefix)
{
	size_t		plen = strlen(prefix);
	char	   *id = palloc(plen + ID_RANDOM_CHARS + 1);
	int			filled = 0;

	memcpy(id, prefix, plen);
	while (filled < ID_RANDOM_CHARS)
	{
		unsigned char buf[32];
		int			i;

		if (!pg_strong_random(buf, sizeof(buf)))
			ereport(ERROR,
					(errcode(ERRCODE_INTERNAL_ERROR),
					 errmsg("could not generate random bytes for an id")));
		for (i = 0; i < (int) sizeof(buf) && filled < ID_RANDOM_CHARS; i++)
		{
			if (buf[i] < 248)
				id[plen + filled++] = base62[buf[i] % 62];
		}
	}
	id[plen + ID_RANDOM_CHARS] = '\0';
	return id;
}

PG_FUNCTION_INFO_V1(invoicing_generate_id);

/*
 * invoicing.generate_id(prefix text) returns text
 */
Datum
invoicing_generate_id(PG_FUNCTION_ARGS)
{
	char	   *prefix;

	require_arg(fcinfo, 0, "prefix");
	prefix = text_to_cstring(PG_GETARG_TEXT_PP(0));
	if (strlen(prefix) > 16)
		ereport(ERROR,
				(errcode(ERRCODE_INVALID_PARAMETER_VALUE),
				 errmsg("id prefix is too long: \"%s\"", prefix)));
	PG_RETURN_TEXT_P(cstring_to_text(generate_id(prefix)));
}

/*
 * check_id
 *		Give a row without an id a generated one; check a supplied id
 *		(SPEC 1: the object's prefix, else 22023).
 */
void
check_id(Row *row, const char *prefix, const char *object)
{
	char	   *id = row_text(row, "id");
	size_t		plen = strlen(prefix);
	size_t		len;
	size_t		i;

	if (id == NULL)
	{
		row_set_text(row, "id", generate_id(prefix));
		return;
	}
	len = strlen(id);
	if (len <= plen || strncmp(id, prefix, plen) != 0)
		ereport(ERROR,
				(errcode(ERRCODE_INVALID_PARAMETER_VALUE),
				 errmsg("invalid %s id: \"%s\"", object, id),
				 errdetail("A %s id starts with \"%s\" followed by letters, digits or underscores.",
						   object, prefix)));
	if (len > ID_MAX_LENGTH)
		ereport(ERROR,
				(errcode(ERRCODE_INVALID_PARAMETER_VALUE),
				 errmsg("invalid %s id: longer than %d characters", object, ID_MAX_LENGTH)));
	for (i = plen; i < len; i++)
	{
		char		c = id[i];

		if (!((c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') ||
			  (c >= '0' && c <= '9') || c == '_'))
			ereport(ERROR,
					(errcode(ERRCODE_INVALID_PARAMETER_VALUE),
					 errmsg("invalid %s id: \"%s\"", object, id),
					 errdetail("A %s id starts with \"%s\" followed by letters, digits or underscores.",
							   object, prefix)));
	}
}

/*
 * cmp_currency
 *		bsearch comparator over iso4217[].
 */
static int
cmp_currency(const void *key, const void *elem)
{
	return strcmp((const char *) key, *(const char *const *) elem);
}

/*
 * is_valid_currency
 *		Exactly a lower-case ISO 4217 code.
 */
static bool
is_valid_currency(const char *currency)
{
	if (currency == NULL || strlen(currency) != 3)
		return false;
	return bsearch(currency, iso4217, lengthof(iso4217), sizeof(iso4217[0]),
				   cmp_currency) != NULL;
}

/*
 * check_currency
 *		Refuse anything but a lower-case ISO 4217 code (SPEC 1: 22023).
 */
void
check_currency(const char *currency)
{
	if (currency == NULL)
		ereport(ERROR,
				(errcode(ERRCODE_NULL_VALUE_NOT_ALLOWED),
				 errmsg("currency must not be null")));
	if (!is_valid_currency(currency))
		ereport(ERROR,
				(errcode(ERRCODE_INVALID_PARAMETER_VALUE),
				 errmsg("invalid currency: \"%s\"", currency),
				 errhint("Use a lower-case ISO 4217 code such as \"usd\", \"eur\" or \"jpy\".")));
}

PG_FUNCTION_INFO_V1(invoicing_is_valid_currency);

/*
 * invoicing.is_valid_currency(currency text) returns boolean
 */
Datum
invoicing_is_valid_currency(PG_FUNCTION_ARGS)
{
	PG_RETURN_BOOL(is_valid_currency(text_to_cstring(PG_GETARG_TEXT_PP(0))));
}

/*
 * require_customer
 *		The customer exists (SPEC 5: P0002 otherwise).  The caller is
 *		connected to SPI.
 */
void
require_customer(const char *customer)
{
	static KeyRead by_id = {"customers", NULL, "id", {NULL},
		"SELECT id FROM " INV_SCHEMA ".customers WHERE id" EQ "$1 LIMIT $2", NULL};

	if (customer == NULL)
		ereport(ERROR,
				(errcode(ERRCODE_NULL_VALUE_NOT_ALLOWED),
				 errmsg("customer must not be null")));
	if (read_one(&by_id, customer, false) == NULL)
		ereport(ERROR,
				(errcode(ERRCODE_NO_DATA_FOUND),
				 errmsg("no such customer: \"%s\"", customer)));
}

PG_FUNCTION_INFO_V1(invoicing_customers_trigger);

/*
 * customers trigger (BEFORE INSERT OR UPDATE)
 *		Ids: generated or checked on insert, never changed.
 */
Datum
invoicing_customers_trigger(PG_FUNCTION_ARGS)
{
	TriggerData *td = trigger_data(fcinfo, "customers_trigger");
	Row			newrow;

	if (TRIGGER_FIRED_BY_INSERT(td->tg_event))
	{
		row_from_tuple(&newrow, td->tg_relation->rd_att, td->tg_trigtuple);
		check_id(&newrow, "cus_", "customer");
		check_metadata(NULL, &newrow, "customer");
		return PointerGetDatum(row_to_tuple(&newrow));
	}
	else
	{
		Row			oldrow;

		row_from_tuple(&oldrow, td->tg_relation->rd_att, td->tg_trigtuple);
		row_from_tuple(&newrow, td->tg_relation->rd_att, td->tg_newtuple);
		if (!row_same(&oldrow, &newrow, "id"))
			ereport(ERROR,
					(errcode(ERRCODE_OBJECT_NOT_IN_PREREQUISITE_STATE),
					 errmsg("the id of customer \"%s\" cannot be changed",
							row_text(&oldrow, "id"))));
		check_metadata(&oldrow, &newrow, "customer");
		return PointerGetDatum(td->tg_newtuple);
	}
}

PG_FUNCTION_INFO_V1(invoicing_create_customer);

/*
 * invoicing.create_customer(email text, name text, id text) returns text
 */
Datum
invoicing_create_customer(PG_FUNCTION_ARGS)
{
	static SPIPlanPtr plan = NULL;
	Oid			argtypes[3] = {TEXTOID, TEXTOID, TEXTOID};
	Datum		values[3];
	char		nulls[3];

	args_to_params(fcinfo, 3, values, nulls);
	PG_RETURN_TEXT_P(cstring_to_text(exec_returning_id(&plan,
													   "INSERT INTO " INV_SCHEMA ".customers (email, name, id)"
													   " VALUES ($1, $2, $3) RETURNING id",
													   3, argtypes, values, nulls)));
}
