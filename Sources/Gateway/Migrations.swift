import ServiceKit

/// The gateway owns sign-up and tokens: Supabase's `auth` schema and nothing else.
enum GatewayMigrations {
    static let sets: [MigrationSet] = [AuthSchema.migrations]
}
