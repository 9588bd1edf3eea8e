DROP INDEX "es"."events_type_commit_order";--> statement-breakpoint
CREATE INDEX "events_aggregate_type_commit_order" ON "es"."events" USING btree ("aggregate_type","transaction_id","position");--> statement-breakpoint
CREATE INDEX "events_type_commit_order" ON "es"."events" USING btree ("type","transaction_id","position");