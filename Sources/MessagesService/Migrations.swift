import ServiceKit

/// The messages service's schema, after Supabase's `auth` schema (which its
/// tables reference) and the outbox (which its writes fill).
///
/// - `conversations`: two participants (who opened it, and with whom) and an
///   optional listing. One conversation per unordered pair and listing: the
///   unique index on (least, greatest, listing or the nil UUID) makes a
///   concurrent second opening fail its insert, which then returns the first.
///   `activity_seq` comes from a sequence and is bumped by every message, so
///   "most recent activity first" is a total, stable order.
/// - `conversation_participants`: membership and each member's read marker
///   (`last_read_seq`, a message `seq`; it only moves forward).
/// - `messages`: `seq` (bigserial) is the total order of history. Writers to
///   one conversation lock its row before `seq` is drawn, so within a
///   conversation commit order equals `seq` order and `after` paging never
///   skips a message committed late. `client_message_id` is unique per
///   conversation and sender (the retry key).
enum MessagesMigrations {
    static let owner = "messages"

    static let sets: [MigrationSet] = [
        AuthSchema.migrations,
        Outbox.migrations,
        MigrationSet(owner: owner, migrations: [
            Migration(version: 1, name: "create conversations, participants and messages", sql: """
                CREATE SEQUENCE conversations_activity_seq;

                CREATE TABLE conversations (
                    id uuid PRIMARY KEY DEFAULT gen_random_uuid(),
                    initiator_id uuid NOT NULL REFERENCES auth.users (id) ON DELETE CASCADE,
                    recipient_id uuid NOT NULL REFERENCES auth.users (id) ON DELETE CASCADE,
                    listing_id uuid,
                    created_at timestamptz NOT NULL DEFAULT now(),
                    last_message_at timestamptz,
                    activity_seq bigint NOT NULL,
                    CONSTRAINT conversations_two_people CHECK (initiator_id <> recipient_id)
                );
                CREATE UNIQUE INDEX conversations_pair_listing_key ON conversations (
                    least(initiator_id, recipient_id),
                    greatest(initiator_id, recipient_id),
                    coalesce(listing_id, '00000000-0000-0000-0000-000000000000'::uuid)
                );
                CREATE INDEX conversations_activity_idx ON conversations (activity_seq DESC);

                CREATE TABLE conversation_participants (
                    conversation_id uuid NOT NULL REFERENCES conversations (id) ON DELETE CASCADE,
                    user_id uuid NOT NULL REFERENCES auth.users (id) ON DELETE CASCADE,
                    last_read_seq bigint NOT NULL DEFAULT 0,
                    last_read_at timestamptz,
                    PRIMARY KEY (conversation_id, user_id)
                );
                CREATE INDEX conversation_participants_user_idx ON conversation_participants (user_id);

                CREATE TABLE messages (
                    seq bigserial PRIMARY KEY,
                    id uuid NOT NULL UNIQUE DEFAULT gen_random_uuid(),
                    conversation_id uuid NOT NULL REFERENCES conversations (id) ON DELETE CASCADE,
                    sender_id uuid NOT NULL REFERENCES auth.users (id) ON DELETE CASCADE,
                    body text NOT NULL CONSTRAINT messages_body_length CHECK (char_length(body) BETWEEN 1 AND 4000),
                    client_message_id text NOT NULL,
                    created_at timestamptz NOT NULL DEFAULT clock_timestamp(),
                    CONSTRAINT messages_client_message_key UNIQUE (conversation_id, sender_id, client_message_id)
                );
                CREATE INDEX messages_conversation_seq_idx ON messages (conversation_id, seq);
                """),
        ]),
    ]
}
