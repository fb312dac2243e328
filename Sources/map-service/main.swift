import MapService

try await MapApp.run()
