"""Reading and writing the outside world's formats: site YAML/CSV, InduForm, CSAF, KEV, SARIF."""
