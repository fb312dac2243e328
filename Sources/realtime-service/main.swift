import RealtimeService

try await RealtimeApp.run()
