CREATE TABLE "es"."parked_triggers" (
	"consumer" text NOT NULL,
	"transaction_id" "xid8" NOT NULL,
	"position" bigint NOT NULL,
	"event_id" text NOT NULL,
	"event_type" text NOT NULL,
	"process" text NOT NULL,
	"attempts" integer NOT NULL,
	"error" text NOT NULL,
	"failed" boolean NOT NULL,
	"parked_at" timestamp with time zone DEFAULT now() NOT NULL,
	CONSTRAINT "parked_triggers_consumer_transaction_id_position_pk" PRIMARY KEY("consumer","transaction_id","position")
);
--> statement-breakpoint
ALTER TABLE "projection"."accounts" ALTER COLUMN "balance" SET DATA TYPE numeric;--> statement-breakpoint
ALTER TABLE "es"."streams" ADD COLUMN "transaction_id" "xid8" DEFAULT pg_current_xact_id() NOT NULL;--> statement-breakpoint
-- Existing streams: the writer of their latest version (the default above is this migration's own).
UPDATE "es"."streams" s SET "transaction_id" = e."transaction_id"
  FROM "es"."events" e WHERE e."aggregate_id" = s."aggregate_id" AND e."version" = s."version";--> statement-breakpoint
CREATE INDEX "parked_triggers_process" ON "es"."parked_triggers" USING btree ("consumer","process");