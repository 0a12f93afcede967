/*-------------------------------------------------------------------------
 *
 * invoicing.h
 *		Shared declarations of the invoicing extension.
 *
 * Where each SPEC rule lives:
 *		ids.c		identifiers (generate_id), currencies, customers
 *		balance.c	customer balance transactions and balances (invariant 8)
 *		invoices.c	invoices and lines: totals, finalization (rule F),
 *					void / uncollectible (rule V), invariants 1-3 and 7
 *		payments.c	PaymentIntents (rule P), attach (rule A), out-of-band
 *					payments (rule O), invariant 6
 *		json.c		Stripe-shaped JSON objects (the only user of jansson)
 *		invoicing.c	shared plumbing: cached SPI plans, internal writes,
 *					row access, checked arithmetic
 *
 * SQLSTATEs follow SPEC section 5.
 *
 *-------------------------------------------------------------------------
 */
#ifndef INVOICING_H
#define INVOICING_H

#include "postgres.h"

#include "access/htup.h"
#include "access/tupdesc.h"
#include "commands/trigger.h"
#include "executor/spi.h"
#include "utils/timestamp.h"

/* The extension's schema: fixed, the extension is not relocatable. */
#define INV_SCHEMA "invoicing"

/* Operators spelled so a hostile search_path cannot redirect them. */
#define EQ " OPERATOR(pg_catalog.=) "

/*
 * Row: a deformed heap tuple whose columns are read and written by name.
 */
typedef struct Row
{
	TupleDesc	desc;
	Datum	   *values;
	bool	   *nulls;
} Row;

extern void row_from_tuple(Row *row, TupleDesc desc, HeapTuple tuple);
extern HeapTuple row_to_tuple(Row *row);
extern int	row_attnum(Row *row, const char *name);
extern bool row_has(Row *row, const char *name);
extern bool row_isnull(Row *row, const char *name);
extern Datum row_get(Row *row, const char *name);
extern int64 row_int64(Row *row, const char *name);
extern char *row_text(Row *row, const char *name);
extern char *row_enum(Row *row, const char *name);
extern void row_set(Row *row, const char *name, Datum value, bool isnull);
extern void row_set_int64(Row *row, const char *name, int64 value);
extern void row_set_text(Row *row, const char *name, const char *value);
extern void row_set_enum(Row *row, const char *name, const char *label);
extern bool row_same(Row *a, Row *b, const char *name);

/* Cached plans and internal writes */
extern SPIPlanPtr inv_prepare(SPIPlanPtr *slot, const char *sql, int nargs,
							  const Oid *argtypes);
extern int	inv_exec(SPIPlanPtr plan, Datum *values, const char *nulls,
					 bool read_only, long count);
extern int	inv_exec_internal(SPIPlanPtr plan, Datum *values, const char *nulls);
extern bool inv_internal_write(void);
extern void inv_connect(void);
extern void inv_finish(void);

/* Reading SPI results */
extern Row *spi_row(int i);

/*
 * Reading rows by key without a query (reads.c): the table and the index it
 * scans, the index's columns as the scan needs them (the key, then the
 * columns of the order, each descending), and the same read as a query ($1
 * the key, $2 the limit) for when the index cannot be used or the executor
 * must decide (row-level security, column privileges), with the slot that
 * caches its plan.
 */
typedef struct KeyRead
{
	const char *table;
	const char *index;			/* NULL: the primary key */
	const char *key;			/* its first column: a text column */
	const char *order[3];		/* its next columns, descending; NULL-ended */
	const char *sql;
	SPIPlanPtr	plan;
} KeyRead;

extern int	read_by_key(KeyRead *kr, Datum key, int limit, bool after_write,
						Row ***rows);
extern Row *read_one(KeyRead *kr, const char *id, bool after_write);

/* Checked arithmetic (22003 on overflow) */
extern int64 add_amounts(int64 a, int64 b);
extern int64 sub_amounts(int64 a, int64 b);
extern int64 mul_amount(int64 a, int64 b);

/* Helpers for trigger functions */
extern TriggerData *trigger_data(FunctionCallInfo fcinfo, const char *name);
extern void refuse_derived_change(Row *oldrow, Row *newrow, const char *const *cols,
								  const char *what, const char *id);
extern void refuse_changes_except(Row *oldrow, Row *newrow, const char *const *allowed,
								  const char *what, const char *id);
extern void check_metadata(Row *oldrow, Row *newrow, const char *what);
extern int64 next_seq(const char *seqname);
extern char *arg_text(FunctionCallInfo fcinfo, int argno, const char *name);
extern char *arg_text_opt(FunctionCallInfo fcinfo, int argno);
extern void check_enum_arg(const char *typname, const char *label, const char *argname);
extern void args_to_params(FunctionCallInfo fcinfo, int nargs, Datum *values,
						   char *nulls);
extern char *exec_returning_id(SPIPlanPtr *slot, const char *sql, int nargs,
							   const Oid *argtypes, Datum *values, const char *nulls);
extern Row *exec_returning_row(SPIPlanPtr *slot, const char *sql, int nargs,
							   const Oid *argtypes, Datum *values, const char *nulls);
extern void require_arg(FunctionCallInfo fcinfo, int argno, const char *name);
extern Datum text_datum(const char *s);
extern char *text_datum_cstring(Datum d);

/* ids.c */
extern char *generate_id(const char *prefix);
extern void check_id(Row *row, const char *prefix, const char *object);
extern void check_currency(const char *currency);
extern void require_customer(const char *customer);

/* balance.c */
extern int64 lock_customer_balance(const char *customer, const char *currency);
extern void insert_balance_transaction_id(const char *id, const char *customer,
										  const char *currency, int64 amount,
										  const char *type, const char *invoice,
										  const char *credit_note,
										  const char *description);
extern void insert_balance_transaction(const char *customer, const char *currency,
									   int64 amount, const char *type,
									   const char *invoice, const char *credit_note,
									   const char *description);

/* credit_notes.c */
typedef struct RefundShare
{
	char	   *invoice_payment;
	char	   *payment_intent;
	char	   *refund;			/* the refund's id, once written */
	int64		amount;
} RefundShare;

typedef struct CreditNoteAlloc
{
	/* asked for */
	int64		amount;
	int64		refund_amount;
	int64		credit_amount;
	int64		out_of_band_amount;
	/* computed by allocate_credit_note() */
	int64		pre_payment_amount;
	int64		post_payment_amount;
	const char *type;
	int			nrefunds;
	RefundShare *refunds;
} CreditNoteAlloc;

extern void allocate_credit_note(Row *inv, CreditNoteAlloc *alloc);
extern void spread_refund(const char *invoice, CreditNoteAlloc *alloc);

/* A credit note as shown in JSON: a stored one, or a preview. */
typedef struct CreditNoteView
{
	char	   *id;
	char	   *invoice;
	char	   *customer;
	char	   *currency;
	char	   *number;
	char	   *memo;
	char	   *reason;
	char	   *status;
	char	   *customer_balance_transaction;
	TimestampTz created;
	bool		has_voided_at;
	TimestampTz voided_at;
	Row		   *row;			/* the stored row (metadata), or NULL */
	CreditNoteAlloc alloc;
} CreditNoteView;

/* invoices.c */
extern Row *read_invoice(const char *invoice);
extern Row *lock_invoice(const char *invoice, bool missing_ok);
extern void add_to_invoice_payments(const char *invoice, int64 paid, int32 open_step,
									int32 paid_step, int64 refundable_step);
extern void update_invoice_payments(Row *inv, int64 amount_paid, int32 open_count,
									int32 paid_count, int64 refundable_delta);

/* events.c */
typedef enum EventKind
{
	EVENT_INVOICE,
	EVENT_INVOICE_PAYMENT,
	EVENT_CREDIT_NOTE
} EventKind;

/* What an event is about: data.object, and data.previous_attributes. */
typedef struct EventSource
{
	EventKind	kind;
	Row		   *row;			/* the object after the change */
	Row		   *old;			/* invoice.updated: the invoice before it */
	CreditNoteAlloc *alloc;		/* a new credit note's refunds, or NULL */
} EventSource;

extern void emit_invoice_payment_event(Row *pay);
extern void emit_credit_note_event(const char *type, Row *cn, CreditNoteAlloc *alloc);
extern void emit_invoice_events(Row *oldrow, Row *newrow);

/* json.c */
typedef enum ObjectKind
{
	OBJ_INVOICE,
	OBJ_INVOICE_EXPANDED,
	OBJ_INVOICE_PAYMENT,
	OBJ_PAYMENT_INTENT,
	OBJ_BALANCE_TRANSACTION,
	OBJ_CREDIT_NOTE
} ObjectKind;

extern Datum object_jsonb(ObjectKind kind, const char *id, bool after_write);
extern Datum row_jsonb(ObjectKind kind, Row *row);
extern Datum event_payload(const char *id, const char *type, TimestampTz created,
						   EventSource *src);
extern bool invoice_json_changed(Row *oldrow, Row *newrow);
extern Datum invoice_jsonb(const char *invoice, bool expand_payments, bool after_write);
extern Datum credit_note_view_jsonb(CreditNoteView *view);

/* time */
extern int64 unix_seconds(TimestampTz ts);

#endif							/* INVOICING_H */
