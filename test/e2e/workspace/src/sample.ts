// Arithmetic for the sample workspace.

