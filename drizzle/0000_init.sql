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
ALTER TABLE "es"."outbox" ADD CONSTRAINT "outbox_position_events_position_fk" FOREIGN KEY ("position") REFERENCES "es"."events"("position") ON DELETE no action ON UPDATE no action;--> statement-breakpoint
CREATE INDEX "events_commit_order" ON "es"."events" USING btree ("transaction_id","position");--> statement-breakpoint
CREATE INDEX "events_type_commit_order" ON "es"."events" USING btree ("aggregate_type","transaction_id","position");