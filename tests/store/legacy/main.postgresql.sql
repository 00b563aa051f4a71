-- The integration store as finsync/store.py created it at 1db8db2 (its last change before migrations),
-- with SQLModel's create_all on PostgreSQL: a store made before migrations.
CREATE TABLE bank_report (
	seq SERIAL NOT NULL,
	webhook_id VARCHAR NOT NULL,
	end_to_end_id VARCHAR NOT NULL,
	message_id VARCHAR NOT NULL,
	state VARCHAR NOT NULL,
	source VARCHAR NOT NULL,
	workflow_id VARCHAR,
	outcome VARCHAR NOT NULL,
	investigate BOOLEAN NOT NULL,
	report VARCHAR NOT NULL,
	raw VARCHAR,
	received_at TIMESTAMP WITH TIME ZONE NOT NULL,
	PRIMARY KEY (seq),
	UNIQUE (webhook_id, end_to_end_id, source)
);

CREATE INDEX ix_bank_report_end_to_end_id ON bank_report (end_to_end_id);

CREATE INDEX ix_bank_report_investigate ON bank_report (investigate);

CREATE TABLE expense_fingerprint (
	id SERIAL NOT NULL,
	fingerprint VARCHAR NOT NULL,
	report_id VARCHAR NOT NULL,
	line_id VARCHAR NOT NULL,
	submitted_at TIMESTAMP WITH TIME ZONE,
	PRIMARY KEY (id),
	UNIQUE (fingerprint, report_id, line_id)
);

CREATE INDEX ix_expense_fingerprint_fingerprint ON expense_fingerprint (fingerprint);

CREATE INDEX ix_expense_fingerprint_report_id ON expense_fingerprint (report_id);

CREATE TABLE finance_event (
	seq SERIAL NOT NULL,
	event_id VARCHAR NOT NULL,
	type VARCHAR NOT NULL,
	occurred_at TIMESTAMP WITH TIME ZONE NOT NULL,
	process VARCHAR NOT NULL,
	business_key VARCHAR NOT NULL,
	workflow_id VARCHAR NOT NULL,
	correlation_id VARCHAR NOT NULL,
	entity_code VARCHAR,
	amount VARCHAR,
	currency VARCHAR,
	summary VARCHAR NOT NULL,
	data VARCHAR NOT NULL,
	recorded_at TIMESTAMP WITH TIME ZONE NOT NULL,
	PRIMARY KEY (seq),
	UNIQUE (event_id)
);

CREATE INDEX ix_finance_event_business_key ON finance_event (business_key);

CREATE INDEX ix_finance_event_correlation_id ON finance_event (correlation_id);

CREATE INDEX ix_finance_event_process ON finance_event (process);

CREATE INDEX ix_finance_event_type ON finance_event (type);

CREATE INDEX ix_finance_event_workflow_id ON finance_event (workflow_id);

CREATE TABLE payment_route (
	end_to_end_id VARCHAR NOT NULL,
	message_id VARCHAR NOT NULL,
	workflow_id VARCHAR NOT NULL,
	created_at TIMESTAMP WITH TIME ZONE NOT NULL,
	PRIMARY KEY (end_to_end_id)
);

CREATE INDEX ix_payment_route_message_id ON payment_route (message_id);

CREATE TABLE reconciliation (
	id SERIAL NOT NULL,
	run_key VARCHAR NOT NULL,
	entity_code VARCHAR NOT NULL,
	day VARCHAR NOT NULL,
	ran_at TIMESTAMP WITH TIME ZONE NOT NULL,
	workflow_id VARCHAR,
	difference_count INTEGER NOT NULL,
	summary VARCHAR NOT NULL,
	counts VARCHAR NOT NULL,
	differences VARCHAR NOT NULL,
	PRIMARY KEY (id),
	UNIQUE (run_key)
);

CREATE INDEX ix_reconciliation_day ON reconciliation (day);

CREATE INDEX ix_reconciliation_entity_code ON reconciliation (entity_code);

CREATE TABLE sweep_watermark (
	name VARCHAR NOT NULL,
	watermark VARCHAR NOT NULL,
	updated_at TIMESTAMP WITH TIME ZONE NOT NULL,
	PRIMARY KEY (name)
);

CREATE TABLE webhook_receipt (
	webhook_id VARCHAR NOT NULL,
	source VARCHAR NOT NULL,
	workflow_id VARCHAR,
	received_at TIMESTAMP WITH TIME ZONE NOT NULL,
	PRIMARY KEY (webhook_id)
);
