# Stop make fixtures unless the metafor R finds is the reference version.
#
#   R_LIBS=/opt/R-metafor51 Rscript tests/metafor/check_version.R 5.1-12
#
# It only looks: tests/metafor/README says how to install that version.
want <- commandArgs(trailingOnly = TRUE)[1]
found <- tryCatch(as.character(packageVersion("metafor")), error = function(e) NA_character_)
if (is.na(found) || package_version(found) != package_version(want)) {
  message(sprintf(paste0(
    "make fixtures needs metafor %s; R found %s (library paths: %s).\n",
    "Install %s into its own library as tests/metafor/README describes and point METAFOR_LIB at it,\n",
    "e.g. make fixtures METAFOR_LIB=/opt/R-metafor51"),
    want, if (is.na(found)) "no metafor" else paste("metafor", found),
    paste(.libPaths(), collapse = ", "), want))
  quit(status = 1)
}
cat(sprintf("metafor %s from %s\n", found, dirname(find.package("metafor"))))
