import SwapCLI

SwapCommand.runMain()
