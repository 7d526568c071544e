from yamlext._yaml import libyaml_version
