// test/stripe-types/types.ts: the Stripe types invoicing's JSON is checked
// against (the stripe package pinned to 18.2.x: API 2025-05-28.basil).
//
// Exact[K] is Stripe's type for object kind K, with SPEC 6's single
// exception: an out-of-band payment is shown as
//   payment: {type: "payment_record", payment_record: "prec_..."}
// (Stripe's 2025-10-29.clover shape; basil has none), wherever an
// invoice_payment appears: on its own, in an expanded invoice's payments
// list, and in invoice_payment.paid events.
//
// Checked[K] = Loose<Exact[K]>: every key optional, at every depth, but each
// key that is present must exist in Stripe's type (object literals get
// TypeScript's excess property check, nested ones too) and hold a value of
// Stripe's type for it (so null only where Stripe allows null, integers as
// numbers, enum strings from Stripe's sets).  Which required keys invoicing
// does not produce is reported separately by check.js, from Exact[K].

import Stripe from 'stripe';

/** Every key optional, recursively; unions stay unions (distributive). */
export type Loose<T> =
  T extends (infer E)[] ? Loose<E>[]
  : T extends string | number | boolean | null | undefined ? T
  : T extends object ? { [K in keyof T]?: Loose<T[K]> }
  : T;

/** SPEC 6's exception: basil has no payment_record payments. */
export interface PaymentRecordPayment {
  type: 'payment_record';
  payment_record: string;
}

export type InvoicePayment = Omit<Stripe.InvoicePayment, 'payment'> & {
  payment: Stripe.InvoicePayment.Payment | PaymentRecordPayment;
};

export type Invoice = Omit<Stripe.Invoice, 'payments'> & {
  payments?: Stripe.ApiList<InvoicePayment>;
};

/** An event type with data.object (and previous_attributes) replaced. */
type EventOf<E extends { data: unknown }, O> = Omit<E, 'data'> & {
  data: Omit<E['data'], 'object' | 'previous_attributes'> & {
    object: O;
    previous_attributes?: Partial<O>;
  };
};

export interface Exact {
  invoice: Invoice;
  invoice_payment: InvoicePayment;
  payment_intent: Stripe.PaymentIntent;
  customer_balance_transaction: Stripe.CustomerBalanceTransaction;
  credit_note: Stripe.CreditNote;
  // events: Stripe's typed event of each type SPEC 6 names
  'invoice.finalized': Stripe.InvoiceFinalizedEvent;
  'invoice.updated': Stripe.InvoiceUpdatedEvent;
  'invoice.paid': Stripe.InvoicePaidEvent;
  'invoice.payment_succeeded': Stripe.InvoicePaymentSucceededEvent;
  'invoice.overpaid': Stripe.InvoiceOverpaidEvent;
  'invoice.voided': Stripe.InvoiceVoidedEvent;
  'invoice.marked_uncollectible': Stripe.InvoiceMarkedUncollectibleEvent;
  'invoice_payment.paid': EventOf<Stripe.InvoicePaymentPaidEvent, InvoicePayment>;
  'credit_note.created': Stripe.CreditNoteCreatedEvent;
  'credit_note.voided': Stripe.CreditNoteVoidedEvent;
}

export type Checked = { [K in keyof Exact]: Loose<Exact[K]> };

// The event types above are exactly SPEC 6's, and each is one of Stripe's.
type SpecEventType = Exclude<keyof Exact, 'invoice' | 'invoice_payment' | 'payment_intent'
  | 'customer_balance_transaction' | 'credit_note'>;
export const specEventTypes: readonly Stripe.Event.Type[] = [
  'invoice.finalized', 'invoice.updated', 'invoice.paid', 'invoice.payment_succeeded',
  'invoice.overpaid', 'invoice.voided', 'invoice.marked_uncollectible',
  'invoice_payment.paid', 'credit_note.created', 'credit_note.voided',
] satisfies readonly SpecEventType[];
