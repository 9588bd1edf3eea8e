CREATE SCHEMA "es";
--> statement-breakpoint
CREATE SCHEMA "projection";
--> statement-breakpoint
CREATE TABLE "es"."checkpoints" (
	"consumer" text PRIMARY KEY NOT NULL,
	"transaction_id" "xid8" NOT NULL,
	"position" bigint NOT NULL,
	"updated_at" timestamp with time zone DEFAULT now() NOT NULL
);
--> statement-breakpoint
CREATE TABLE "es"."events" (
	"position" bigserial PRIMARY KEY NOT NULL,
	"transaction_id" "xid8" DEFAULT pg_current_xact_id() NOT NULL,
	"id" text NOT NULL,
	"aggregate_id" text NOT NULL,
	"aggregate_type" text NOT NULL,
	"version" integer NOT NULL,
	"type" text NOT NULL,
	"data" jsonb NOT NULL,
	"metadata" jsonb NOT NULL,
	"occurred_at" timestamp with time zone NOT NULL,
	"recorded_at" timestamp with time zone DEFAULT now() NOT NULL,
	CONSTRAINT "events_id_unique" UNIQUE("id"),
	CONSTRAINT "events_stream_version" UNIQUE("aggregate_id","version")
);
--> statement-breakpoint
CREATE TABLE "es"."idempotency_keys" (
	"key" text PRIMARY KEY NOT NULL,
	"command" text NOT NULL,
	"fingerprint" text NOT NULL,
	"aggregate_id" text NOT NULL,
	"version" integer NOT NULL,
	"result" jsonb,
	"created_at" timestamp with time zone DEFAULT now() NOT NULL
);
--> statement-breakpoint
CREATE TABLE "es"."outbox" (
	"transaction_id" "xid8" DEFAULT pg_current_xact_id() NOT NULL,
	"position" bigint NOT NULL,
	"aggregate_type" text NOT NULL,
	"type" text NOT NULL,
	CONSTRAINT "outbox_transaction_id_position_pk" PRIMARY KEY("transaction_id","position")
);
--> statement-breakpoint
CREATE TABLE "es"."snapshots" (
	"aggregate_id" text NOT NULL,
	"version" integer NOT NULL,
	"data" jsonb NOT NULL,
	"created_at" timestamp with time zone DEFAULT now() NOT NULL,
	CONSTRAINT "snapshots_aggregate_id_version_pk" PRIMARY KEY("aggregate_id","version")
);
--> statement-breakpoint
CREATE TABLE "es"."streams" (
	"aggregate_id" text PRIMARY KEY NOT NULL,
	"aggregate_type" text NOT NULL,
	"version" integer NOT NULL,
	"updated_at" timestamp with time zone DEFAULT now() NOT NULL
);
--> statement-breakpoint
CREATE TABLE "projection"."transaction_views" (
	"id" text collate "C" PRIMARY KEY NOT NULL,
	"version" integer NOT NULL,
	"status" text NOT NULL,
	"currency" text NOT NULL,
	"amount" numeric(36, 18) NOT NULL,
	"done_by" text,
	"created_at" timestamp with time zone NOT NULL,
	"updated_at" timestamp with time zone NOT NULL
);
--> statement-breakpoint
CREATE TABLE "projection"."organizations" (
	"id" text collate "C" PRIMARY KEY NOT NULL,
	"name" text NOT NULL,
	"registration_number" text NOT NULL,
	"vat_number" text NOT NULL,
	"vat_is_intra_com" boolean NOT NULL,
	"country" text NOT NULL,
	"created_by" text NOT NULL,
	"updated_by" text,
	"version" integer NOT NULL,
	"registered_at" timestamp with time zone NOT NULL,
	"created_at" timestamp with time zone NOT NULL,
	"updated_at" timestamp with time zone NOT NULL
);
--> statement-breakpoint
CREATE TABLE "projection"."orders" (
	"id" text collate "C" PRIMARY KEY NOT NULL,
	"name" text NOT NULL,
	"status" text NOT NULL,
	"version" integer NOT NULL,
	"created_at" timestamp with time zone NOT NULL,
	"updated_at" timestamp with time zone NOT NULL
);
--> statement-breakpoint
CREATE TABLE "projection"."accounts" (
	"id" text collate "C" PRIMARY KEY NOT NULL,
	"owner" text NOT NULL,
	"currency" text NOT NULL,
	"balance" numeric(36, 18) NOT NULL,
	"status" text NOT NULL,
	"version" integer NOT NULL,
	"opened_at" timestamp with time zone NOT NULL,
	"updated_at" timestamp with time zone NOT NULL
);
--> statement-breakpoint
CREATE TABLE "projection"."money_transfers" (
	"id" text collate "C" PRIMARY KEY NOT NULL,
	"from_account_id" text collate "C" NOT NULL,
	"to_account_id" text collate "C" NOT NULL,
	"amount" numeric(36, 18) NOT NULL,
	"currency" text NOT NULL,
	"status" text NOT NULL,
	"failure_reason" text,
	"version" integer NOT NULL,
	"created_at" timestamp with time zone NOT NULL,
	"updated_at" timestamp with time zone NOT NULL
);
--> statement-breakpoint
ALTER TABLE "es"."outbox" ADD CONSTRAINT "outbox_position_events_position_fk" FOREIGN KEY ("position") REFERENCES "es"."events"("position") ON DELETE no action ON UPDATE no action;--> statement-breakpoint
CREATE INDEX "events_commit_order" ON "es"."events" USING btree ("transaction_id","position");--> statement-breakpoint
CREATE INDEX "events_aggregate_type_commit_order" ON "es"."events" USING btree ("aggregate_type","transaction_id","position");--> statement-breakpoint
CREATE INDEX "events_type_commit_order" ON "es"."events" USING btree ("type","transaction_id","position");--> statement-breakpoint
CREATE INDEX "organizations_country_id" ON "projection"."organizations" USING btree ("country","id");--> statement-breakpoint
CREATE INDEX "orders_status_id" ON "projection"."orders" USING btree ("status","id");--> statement-breakpoint
CREATE INDEX "money_transfers_from_account" ON "projection"."money_transfers" USING btree ("from_account_id","id");--> statement-breakpoint
CREATE INDEX "money_transfers_to_account" ON "projection"."money_transfers" USING btree ("to_account_id","id");