import SwapTopology

extension Topology {
    /// Database dumps are also copied to S3-compatible storage (DigitalOcean
    /// Spaces): a PostgreSQL datastore has a backup schedule and both Spaces
    /// keys are declared. The bucket and endpoint are not in the topology;
    /// the deploying shell exports BACKUP_S3_BUCKET and BACKUP_S3_ENDPOINT
    /// (the deploy workflow takes them from the environment's variables).
    var uploadsBackupsOffSite: Bool {
        datastores.contains { $0.engine == .postgres && $0.backup != nil }
            && hasSecret(InfrastructureSecrets.backupAccessKey) && hasSecret(InfrastructureSecrets.backupSecretKey)
    }
}
