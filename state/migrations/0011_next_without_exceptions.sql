-- `next` of a run.finished notification without an exception per run. 0005's
-- swoop_next_process tried `input::jsonb` and caught the failure; but a run's input is
-- almost always a payload location (s3://...), so every completed claimed run raised and
-- caught an error, a subtransaction each (about 6 us of the ~80 us a completion costs to
-- apply). Only text starting with `{` (after JSON whitespace) can be a JSON object, so
-- anything else is answered at once; the rest is unchanged.
CREATE OR REPLACE FUNCTION swoop_next_process(input text) RETURNS jsonb
LANGUAGE plpgsql IMMUTABLE AS $$
DECLARE
  doc jsonb;
BEGIN
  IF input IS NULL OR left(ltrim(input, E' \t\n\r'), 1) <> '{' THEN
    RETURN '[]'::jsonb;
  END IF;
  BEGIN
    doc := input::jsonb;
  EXCEPTION WHEN others THEN
    RETURN '[]'::jsonb;
  END;
  IF jsonb_typeof(doc) <> 'object' OR jsonb_typeof(doc->'process') IS DISTINCT FROM 'array' THEN
    RETURN '[]'::jsonb;
  END IF;
  RETURN coalesce((SELECT jsonb_agg(x.e ORDER BY x.o) FROM jsonb_array_elements(doc->'process') WITH ORDINALITY x(e, o)
                   WHERE x.o > 1), '[]'::jsonb);
END
$$;
